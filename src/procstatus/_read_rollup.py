"""Reading smaps_rollup under a proc root: the I/O layer over :func:`parse_rollup`.

# Strategy

Two paths give the same :class:`Rollup`:

- **smaps_rollup** (Linux 4.14+): one small file whose lines the kernel has
  already summed over all mappings. The normal path.
- **smaps** (kernels before 4.14, which lack smaps_rollup): the per-mapping file,
  read whole and summed by :func:`sum_smaps`. Taken only when smaps_rollup does
  not exist while the process does.

Reading either file needs ptrace read access to the process (the kernel checks
PTRACE_MODE_READ when it opens them: fs/proc/task_mmu.c, proc_mem_open()), so
another user's process is a permission error even where its status is
readable. One errno means two things here, and is told apart afterwards:

- ESRCH when the process has no address space: show_smaps_rollup() returns it
  for a kernel thread (no mm) and a zombie (mmget_not_zero() fails). That is
  "no memory" (None), not "gone"; the smaps fallback instead reads empty then.
- ESRCH or ENOENT when the process is gone. So after either error the status
  file is looked at: gone with it means :class:`ProcessNotFoundError`.

Cost: the kernel walks the page tables of every mapping under the process's
mmap lock, which grows with RSS (docs/shared-memory.md has the measured cost
per GiB). ``max_rss`` reads the cheap status first and skips large processes.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Optional, Union

from ._errors import (
    ProcessNotFoundError,
    ProcfsFileError,
    RollupParseError,
    RssLimitExceededError,
    StatusParseError,
)
from ._parse import parse_memory
from ._procfs import check_id, exists, list_pids, path, read_file, root_str
from ._rollup import Rollup, parse_rollup, sum_smaps

__all__ = ["ROLLUP_LIMIT", "SMAPS_LIMIT", "RollupError", "iter_rollups", "read_rollup"]

#: The largest smaps_rollup text accepted. The kernel prints about 22 lines of
#: at most 30 bytes and a header of at most 80 (about 750 bytes on 6.18); 64 KiB
#: leaves room for vendor lines and fails fast on anything else.
ROLLUP_LIMIT = 1 << 16

#: The largest /proc/PID/smaps text accepted by the fallback. smaps has one
#: block per mapping: about 20 lines and a header with the mapping's path, so
#: 0.6 to 1 KiB each on the kernels that need the fallback; vm.max_map_count
#: allows 65530 mappings by default (include/linux/mm.h DEFAULT_MAX_MAP_COUNT),
#: about 64 MiB of text. Processes beyond that raise ProcfsFileError (EFBIG).
SMAPS_LIMIT = 1 << 26

#: What :func:`iter_rollups` hands to its ``on_error`` hook for one process.
RollupError = Union[OSError, RollupParseError, StatusParseError, RssLimitExceededError]


def read_rollup(
    pid: int,
    root: Union[str, os.PathLike[str]] = "/proc",
    *,
    max_rss: Optional[int] = None,
) -> Optional[Rollup]:
    """Read ``<root>/<pid>/smaps_rollup`` (or sum ``smaps`` on kernels before 4.14).

    Returns None when the process has no memory: a kernel thread or a zombie.
    With ``max_rss`` (bytes), VmRSS is read from the cheap status file first and
    a process above it is not measured: :class:`RssLimitExceededError` says so.

    Raises :class:`ProcessNotFoundError` when the process does not exist or
    exits while being read, :class:`ProcfsPermissionError` when this user may
    not ptrace-read it (another user's process, even where its status is
    readable), :class:`ProcfsNotFoundError` when ``root`` is not a proc root,
    :class:`ProcfsFileError` when what stands there is not a procfs file, is
    longer than :data:`ROLLUP_LIMIT` (:data:`SMAPS_LIMIT` for smaps) or is
    missing while the process exists (``errno`` ENOENT: a kernel built without
    CONFIG_PROC_PAGE_MONITOR has neither file), and
    :class:`RollupParseError` for a text no kernel writes (or a
    :class:`StatusParseError` for the status read by ``max_rss``). Any other
    ``OSError`` (ELOOP from a symlink loop under a fake root, EIO) passes
    through, as from :func:`read_pid`: it never reads as a gone process.
    """
    root = root_str(root)
    pid = check_id(pid)
    if max_rss is not None:
        if isinstance(max_rss, bool) or not isinstance(max_rss, int):
            raise TypeError(f"max_rss must be an int (bytes) or None, not {max_rss!r}")
        memory = parse_memory(read_file(root, pid, "status"))
        if memory is None or memory.rss is None:
            return None  # no memory lines: a kernel thread or a zombie
        if memory.rss > max_rss:
            raise RssLimitExceededError(pid, memory.rss, max_rss)
    return _read(root, pid, check_root=True)


def _read(root: str, pid: int, *, check_root: bool) -> Optional[Rollup]:
    try:
        data = read_file(root, pid, "smaps_rollup", limit=ROLLUP_LIMIT, check_root=check_root)
    except ProcessNotFoundError:
        if not exists(root, pid, "status"):
            raise  # the process is gone
        if not exists(root, pid, "smaps_rollup"):
            return _read_smaps(root, pid)  # a kernel before 4.14
        return None  # ESRCH from show_smaps_rollup(): no mm (kernel thread, zombie)
    if not data:
        return None  # some kernels may answer a task without mm with an empty file
    return parse_rollup(data)


def _read_smaps(root: str, pid: int) -> Optional[Rollup]:
    # m_start() (fs/proc/task_mmu.c) ends the file at once when there is no mm:
    # an empty text, which sum_smaps() turns into None.
    try:
        data = read_file(root, pid, "smaps", limit=SMAPS_LIMIT, check_root=False)
    except ProcessNotFoundError:
        if not exists(root, pid, "status") or exists(root, pid, "smaps"):
            raise  # gone meanwhile
        # Both files are built only with CONFIG_PROC_PAGE_MONITOR (fs/proc/base.c).
        raise ProcfsFileError(
            errno.ENOENT,
            "neither smaps_rollup nor smaps: a kernel without CONFIG_PROC_PAGE_MONITOR",
            path(root, pid, "smaps"),
        ) from None
    return sum_smaps(data)


def iter_rollups(
    root: Union[str, os.PathLike[str]] = "/proc",
    *,
    pids: Optional[Iterable[int]] = None,
    max_rss: Optional[int] = None,
    on_error: Optional[Callable[[int, RollupError], None]] = None,
) -> Iterator[tuple[int, Optional[Rollup]]]:
    """``(pid, rollup)`` for every process under ``root`` (or each of ``pids``), in order.

    Made for sweeps: ``rollup`` is None for a process without memory (kernel
    threads, zombies); a process that exits meanwhile is skipped silently.
    A process above ``max_rss`` is not read (see :func:`read_rollup`) and its
    :class:`RssLimitExceededError` goes to ``on_error(pid, error)``, like every
    other error of one process (``OSError``, :class:`RollupParseError`,
    :class:`StatusParseError`); ``on_error`` may raise to stop the sweep.
    Without ``on_error``, processes skipped for ``max_rss`` and those this user
    may not read are left out silently, and other errors are raised.

    ``root`` is listed (or ``pids`` checked) when this function is called, so a
    bad root raises here, not on the first ``next()``.
    """
    root = root_str(root)
    wanted = list_pids(root) if pids is None else [check_id(pid) for pid in pids]
    if max_rss is not None and (isinstance(max_rss, bool) or not isinstance(max_rss, int)):
        raise TypeError(f"max_rss must be an int (bytes) or None, not {max_rss!r}")
    return _sweep(root, wanted, max_rss, on_error)


def _sweep(
    root: str,
    pids: list[int],
    max_rss: Optional[int],
    on_error: Optional[Callable[[int, RollupError], None]],
) -> Iterator[tuple[int, Optional[Rollup]]]:
    for pid in pids:
        try:
            rollup = read_rollup(pid, root, max_rss=max_rss)
        except ProcessNotFoundError:
            continue
        except (OSError, RollupParseError, StatusParseError, RssLimitExceededError) as exc:
            if on_error is not None:
                on_error(pid, exc)
            elif not isinstance(exc, (PermissionError, RssLimitExceededError)):
                raise
            continue
        yield pid, rollup
