"""The relations the kernel guarantees between the memory lines of one read.

From task_mem() in fs/proc/task_mmu.c: VmPeak is max(total_vm, hiwater_vm)
and VmSize is total_vm (minus reserved_vm before 3.7), VmHWM is
max(rss, hiwater_rss) and VmRSS is rss, both from the same counters read once;
since 4.5 rss is computed as anon + file + shmem, and each is printed after the
same page-to-kB shift. A violation means the text was not written by a kernel
in one read (edited, pasted together, or from a broken emulation).
"""

from __future__ import annotations

import attrs

from ._model import ProcStatus, require_status

__all__ = ["Violation", "check_invariants"]


@attrs.frozen
class Violation:
    """One broken invariant: which rule, and the values that break it."""

    rule: str
    message: str


def check_invariants(status: ProcStatus) -> tuple[Violation, ...]:
    """The kernel invariants this status breaks; empty when it keeps them all.

    Checked where the lines exist: ``VmPeak >= VmSize``, ``VmHWM >= VmRSS``
    and ``VmRSS == RssAnon + RssFile + RssShmem``. (``VmSize >= VmRSS`` is not
    an invariant: the two come from different counters.) Raises TypeError for
    anything but a :class:`ProcStatus`.
    """
    require_status(status, "check_invariants")
    found = []
    for high, low in (("VmPeak", "VmSize"), ("VmHWM", "VmRSS")):
        if high in status and low in status and status[high] < status[low]:
            found.append(
                Violation(
                    rule=f"{high} >= {low}",
                    message=f"{high} ({status[high] // 1024} kB) is below "
                    f"{low} ({status[low] // 1024} kB)",
                )
            )
    parts = ("RssAnon", "RssFile", "RssShmem")
    if "VmRSS" in status and all(part in status for part in parts):
        total = sum(status[part] for part in parts)
        if total != status["VmRSS"]:
            found.append(
                Violation(
                    rule="VmRSS == RssAnon + RssFile + RssShmem",
                    message=f"VmRSS ({status['VmRSS'] // 1024} kB) is not "
                    f"RssAnon + RssFile + RssShmem ({total // 1024} kB)",
                )
            )
    return tuple(found)
