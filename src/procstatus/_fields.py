"""The kernel-version field table: every line /proc/PID/status has printed.

One :class:`FieldSpec` per line, in the order Linux 6.18 prints them (older and
architecture-specific lines where they used to stand). The parser, the
formatter, the attributes of :class:`~procstatus.ProcStatus` and docs/fields.md
are all driven by this table: adding a field is adding one entry here (and one
annotation on the model, so type checkers see the attribute).

Versions are mainline releases, from the reference in shared/reference
(status_fields.md, built from fs/proc/array.c, fs/proc/task_mmu.c,
fs/proc/task_nommu.c and kernel/cpuset.c across 2.6.9 .. 6.18, man 5
proc_pid_status and Documentation/filesystems/proc.rst). ``since=None`` means
the line was already printed by 2.6.0. Distribution kernels backport lines, so
fields are detected by their presence, never from ``uname -r``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Optional

import attrs

from . import _kinds
from ._kinds import Kind

__all__ = ["FIELDS", "FieldSpec"]

ALWAYS = "always"
WITH_MM = "only when the task has an mm: absent for kernel threads and zombies (MMU kernels)"
NOMMU = "only on kernels without an MMU (CONFIG_MMU=n), when the task has an mm"
MM_ONLY = "only when the task has an mm: absent for kernel threads and zombies"
CPUSETS = "2.6.12 to 2.6.32 only with CONFIG_CPUSETS; always since 2.6.33"
S390 = "s390 only (a register dump; continuation lines are indented by 11 spaces)"


@attrs.frozen
class FieldSpec:
    """What the kernel prints on one line of /proc/PID/status, and what we make of it."""

    #: The key exactly as printed before the colon.
    name: str
    #: The value format; see :mod:`procstatus._kinds`.
    kind: Kind
    #: The attribute of :class:`~procstatus.ProcStatus` that holds the value, if any.
    attribute: Optional[str]
    #: First mainline release that prints the line; None when 2.6.0 already did.
    since: Optional[str]
    #: First mainline release that no longer prints it; None while it is printed.
    removed: Optional[str]
    #: When the line is printed (configuration, architecture, task kind).
    printed: str
    description: str
    #: Where the facts in this row come from (kernel file, man page, commit).
    source: str
    #: False for lines only vendor kernels print (their since/removed are None).
    mainline: bool = True

    @property
    def unit(self) -> Optional[str]:
        """The unit of the Python value (``"bytes"`` for memory), if any."""
        return self.kind.unit


def _spec(
    name: str,
    kind: Kind,
    attribute: Optional[str],
    description: str,
    *,
    since: Optional[str] = None,
    removed: Optional[str] = None,
    printed: str = ALWAYS,
    source: str = "fs/proc/array.c task_state()",
    mainline: bool = True,
) -> FieldSpec:
    return FieldSpec(
        name=name,
        kind=kind,
        attribute=attribute,
        since=since,
        removed=removed,
        printed=printed,
        description=description,
        source=source,
        mainline=mainline,
    )


_MEM_SOURCE = "fs/proc/task_mmu.c task_mem()"
_SIG_SOURCE = "fs/proc/array.c task_sig(), render_sigset_t()"
_CAP_SOURCE = "fs/proc/array.c task_cap()"
_CPU_SOURCE = "fs/proc/array.c task_cpus_allowed(); kernel/cpuset.c before 2.6.33"
_MEM_SET_SOURCE = "kernel/cpuset.c cpuset_task_status_allowed()"

_TABLE = (
    _spec(
        "Name",
        _kinds.NAME,
        "name",
        "Command name (comm): at most 15 bytes for user tasks, 63 for kernel threads since 5.17;"
        " the kernel escapes newline as \\n and backslash as \\\\",
        source="fs/proc/array.c proc_task_name(); man 5 proc_pid_status",
    ),
    _spec(
        "Umask",
        _kinds.OCTAL,
        "umask",
        "File mode creation mask",
        since="4.7",
        printed="only when the task has fs_struct: absent for zombies",
        source="fs/proc/array.c task_state(); man 5 proc_pid_status (since 4.7)",
    ),
    _spec(
        "State",
        _kinds.STATE,
        "state",
        "Scheduler state: a letter and its meaning, e.g. R (running), Z (zombie)",
        source="fs/proc/array.c task_state_array[]",
    ),
    _spec(
        "SleepAVG",
        _kinds.PERCENT,
        "sleep_avg",
        "O(1) scheduler's average sleep time, in percent (may exceed 100)",
        removed="2.6.23",
        source="fs/proc/array.c task_state() in 2.6.9 .. 2.6.22; removed by 62480d13d5d1",
    ),
    _spec("Tgid", _kinds.INT, "tgid", "Thread group id: the process id"),
    _spec(
        "Ngid",
        _kinds.INT,
        "ngid",
        "NUMA group id (0 when none)",
        since="3.13",
        source="fs/proc/array.c task_numa_group_id(); man 5 proc_pid_status (since 3.13)",
    ),
    _spec("Pid", _kinds.INT, "pid", "Thread id (equals Tgid for the main thread)"),
    _spec(
        "PPid",
        _kinds.INT,
        "ppid",
        "Parent's process id; 0 when the parent is not visible in this pid namespace",
    ),
    _spec("TracerPid", _kinds.INT, "tracer_pid", "Id of the tracing thread; 0 when not traced"),
    _spec(
        "Uid",
        _kinds.IDS,
        "uid",
        "Real, effective, saved and filesystem user ids (negative before 4.9 for ids >= 2**31)",
    ),
    _spec("Gid", _kinds.IDS, "gid", "Real, effective, saved and filesystem group ids"),
    _spec("FDSize", _kinds.INT, "fd_size", "Slots in the file descriptor table (0 for zombies)"),
    _spec(
        "Groups",
        _kinds.GROUPS,
        "groups",
        "Supplementary group ids (only the first 32 before 3.7)",
    ),
    _spec(
        "NStgid",
        _kinds.TAB_LIST,
        "ns_tgid",
        "Thread group id in each pid namespace, outermost visible first",
        since="4.1",
        printed="CONFIG_PID_NS",
        source="fs/proc/array.c task_state(); man 5 proc_pid_status (since 4.1)",
    ),
    _spec(
        "NSpid",
        _kinds.TAB_LIST,
        "ns_pid",
        "Thread id in each pid namespace, outermost visible first",
        since="4.1",
        printed="CONFIG_PID_NS",
        source="fs/proc/array.c task_state(); man 5 proc_pid_status (since 4.1)",
    ),
    _spec(
        "NSpgid",
        _kinds.TAB_LIST,
        "ns_pgid",
        "Process group id in each pid namespace, outermost visible first",
        since="4.1",
        printed="CONFIG_PID_NS",
        source="fs/proc/array.c task_state(); man 5 proc_pid_status (since 4.1)",
    ),
    _spec(
        "NSsid",
        _kinds.TAB_LIST,
        "ns_sid",
        "Session id in each pid namespace, outermost visible first",
        since="4.1",
        printed="CONFIG_PID_NS",
        source="fs/proc/array.c task_state(); man 5 proc_pid_status (since 4.1)",
    ),
    _spec(
        "Kthread",
        _kinds.BOOL,
        "kthread",
        "Whether the task is a kernel thread",
        since="6.4",
        source="fs/proc/array.c task_state(); Documentation/filesystems/proc.rst",
    ),
    _spec(
        "VmPeak",
        _kinds.KB,
        "peak_size",
        "Peak virtual memory size",
        since="2.6.15",
        printed=WITH_MM,
        source=f"{_MEM_SOURCE}; commit 365e9c87a982",
    ),
    _spec("VmSize", _kinds.KB, "size", "Virtual memory size", printed=WITH_MM, source=_MEM_SOURCE),
    _spec(
        "VmLck", _kinds.KB, "locked", "Locked memory (mlock)", printed=WITH_MM, source=_MEM_SOURCE
    ),
    _spec(
        "VmPin",
        _kinds.KB,
        "pinned",
        "Pinned memory",
        since="3.2",
        printed=WITH_MM,
        source=f"{_MEM_SOURCE}; man 5 proc_pid_status (since 3.2)",
    ),
    _spec(
        "VmHWM",
        _kinds.KB,
        "peak_rss",
        "Peak resident set size (high water mark); resettable since 4.0 via clear_refs",
        since="2.6.15",
        printed=WITH_MM,
        source=f"{_MEM_SOURCE}; commit 365e9c87a982",
    ),
    _spec(
        "VmRSS",
        _kinds.KB,
        "rss",
        "Resident set size: RssAnon + RssFile + RssShmem since 4.5",
        printed=WITH_MM,
        source=_MEM_SOURCE,
    ),
    _spec(
        "RssAnon",
        _kinds.KB,
        "rss_anon",
        "Resident anonymous memory",
        since="4.5",
        printed=WITH_MM,
        source=f"{_MEM_SOURCE}; man 5 proc_pid_status (since 4.5)",
    ),
    _spec(
        "RssFile",
        _kinds.KB,
        "rss_file",
        "Resident file mappings",
        since="4.5",
        printed=WITH_MM,
        source=f"{_MEM_SOURCE}; man 5 proc_pid_status (since 4.5)",
    ),
    _spec(
        "RssShmem",
        _kinds.KB,
        "rss_shmem",
        "Resident shared memory (shmem, tmpfs, shared anonymous mappings)",
        since="4.5",
        printed=WITH_MM,
        source=f"{_MEM_SOURCE}; man 5 proc_pid_status (since 4.5)",
    ),
    _spec("VmData", _kinds.KB, "data", "Data segment size", printed=WITH_MM, source=_MEM_SOURCE),
    _spec("VmStk", _kinds.KB, "stack", "Stack size", printed=WITH_MM, source=_MEM_SOURCE),
    _spec("VmExe", _kinds.KB, "exe", "Text segment size", printed=WITH_MM, source=_MEM_SOURCE),
    _spec(
        "VmLib",
        _kinds.KB,
        "lib",
        "Shared library code size (could underflow to ~1.8e19 kB before 4.16)",
        printed=WITH_MM,
        source=_MEM_SOURCE,
    ),
    _spec(
        "VmPTE",
        _kinds.KB,
        "page_tables",
        "Page table entries size (all page table levels since 4.15)",
        since="2.6.10",
        printed=WITH_MM,
        source=f"{_MEM_SOURCE}; man 5 proc_pid_status (since 2.6.10)",
    ),
    _spec(
        "VmPMD",
        _kinds.KB,
        "pmd_tables",
        "Second-level page tables size",
        since="4.0",
        removed="4.15",
        printed=WITH_MM,
        source=f"{_MEM_SOURCE}; man 5 proc_pid_status (4.0 to 4.14)",
    ),
    _spec(
        "VmSwap",
        _kinds.KB,
        "swap",
        "Swapped-out anonymous memory (shmem swap not included)",
        since="2.6.34",
        printed=WITH_MM,
        source=f"{_MEM_SOURCE}; commit b084d4353ff9",
    ),
    _spec(
        "HugetlbPages",
        _kinds.KB,
        "hugetlb",
        "Hugetlb memory mapped",
        since="4.4",
        printed=f"{WITH_MM}; CONFIG_HUGETLB_PAGE",
        source="mm/hugetlb.c hugetlb_report_usage(); man 5 proc_pid_status (since 4.4)",
    ),
    _spec(
        "Mem",
        _kinds.BYTES,
        "nommu_mem",
        "Memory allocated to the task (no-MMU kernels)",
        printed=NOMMU,
        source="fs/proc/task_nommu.c task_mem()",
    ),
    _spec(
        "Slack",
        _kinds.BYTES,
        "nommu_slack",
        "Slack in the task's allocations (no-MMU kernels)",
        printed=NOMMU,
        source="fs/proc/task_nommu.c task_mem()",
    ),
    _spec(
        "Shared",
        _kinds.BYTES,
        "nommu_shared",
        "Memory shared with other tasks (no-MMU kernels)",
        printed=NOMMU,
        source="fs/proc/task_nommu.c task_mem()",
    ),
    _spec(
        "CoreDumping",
        _kinds.BOOL,
        "core_dumping",
        "Whether the process is dumping core",
        since="4.15",
        printed=MM_ONLY,
        source="fs/proc/array.c task_core_dumping(); man 5 proc_pid_status (since 4.15)",
    ),
    _spec(
        "THP_enabled",
        _kinds.BOOL,
        "thp_enabled",
        "Whether transparent huge pages may be used (prctl PR_SET_THP_DISABLE clears it)",
        since="5.0",
        printed=MM_ONLY,
        source="fs/proc/array.c task_thp_status()",
    ),
    _spec(
        "untag_mask",
        _kinds.HEX_NUMBER,
        "untag_mask",
        "Address untagging mask (x86 LAM, arm64 TBI)",
        since="6.4",
        printed=MM_ONLY,
        source="fs/proc/array.c task_untag_mask()",
    ),
    _spec(
        "Threads",
        _kinds.INT,
        "threads",
        "Number of threads in the thread group",
        # Absent from the 2.5.61 code (Feb 2003), present in the 2.6.4-2.6.8
        # era; no 2.6.0 array.c could be read, so "since 2.6.0" is the
        # reference's best reading, not a verified one.
        source="fs/proc/array.c task_state(); man 5 proc_pid_status (no version given)",
    ),
    _spec(
        "SigQ",
        _kinds.SIGQ,
        "sigq",
        "Queued signals for the real user id, and the RLIMIT_SIGPENDING limit",
        since="2.6.12",
        source=f"{_SIG_SOURCE}; man 5 proc_pid_status",
    ),
    _spec(
        "SigPnd",
        _kinds.HEX_MASK,
        "sig_pending",
        "Signals pending for the thread (bit n-1 is signal n)",
        source=_SIG_SOURCE,
    ),
    _spec(
        "ShdPnd",
        _kinds.HEX_MASK,
        "shared_pending",
        "Signals pending for the whole process",
        source=_SIG_SOURCE,
    ),
    _spec("SigBlk", _kinds.HEX_MASK, "sig_blocked", "Blocked signals", source=_SIG_SOURCE),
    _spec("SigIgn", _kinds.HEX_MASK, "sig_ignored", "Ignored signals", source=_SIG_SOURCE),
    _spec("SigCgt", _kinds.HEX_MASK, "sig_caught", "Caught signals", source=_SIG_SOURCE),
    _spec(
        "CapInh",
        _kinds.HEX_MASK,
        "cap_inheritable",
        "Inheritable capabilities",
        source=_CAP_SOURCE,
    ),
    _spec("CapPrm", _kinds.HEX_MASK, "cap_permitted", "Permitted capabilities", source=_CAP_SOURCE),
    _spec("CapEff", _kinds.HEX_MASK, "cap_effective", "Effective capabilities", source=_CAP_SOURCE),
    _spec(
        "CapBnd",
        _kinds.HEX_MASK,
        "cap_bounding",
        "Capability bounding set",
        since="2.6.26",
        source=f"{_CAP_SOURCE}; commit 289f8e27ed43",
    ),
    _spec(
        "CapAmb",
        _kinds.HEX_MASK,
        "cap_ambient",
        "Ambient capabilities",
        since="4.3",
        source=f"{_CAP_SOURCE}; man 5 proc_pid_status (since 4.3)",
    ),
    _spec(
        "NoNewPrivs",
        _kinds.BOOL,
        "no_new_privs",
        "The no_new_privs bit (prctl PR_SET_NO_NEW_PRIVS)",
        since="4.10",
        source="fs/proc/array.c task_seccomp(); man 5 proc_pid_status (since 4.10)",
    ),
    _spec(
        "Seccomp",
        _kinds.INT,
        "seccomp",
        "Seccomp mode: 0 disabled, 1 strict, 2 filter",
        since="3.8",
        printed="CONFIG_SECCOMP",
        source="fs/proc/array.c task_seccomp(); man 5 proc_pid_status (since 3.8)",
    ),
    _spec(
        "Seccomp_filters",
        _kinds.INT,
        "seccomp_filters",
        "Number of attached seccomp filters",
        since="5.9",
        printed="CONFIG_SECCOMP (and CONFIG_SECCOMP_FILTER since 5.12)",
        source="fs/proc/array.c task_seccomp(); man 5 proc_pid_status (since 5.9)",
    ),
    _spec(
        "Speculation_Store_Bypass",
        _kinds.TEXT,
        "speculation_store_bypass",
        "Speculative store bypass mitigation, e.g. 'thread vulnerable', 'not vulnerable'",
        since="4.17",
        source="fs/proc/array.c task_seccomp(); man 5 proc_pid_status (since 4.17);"
        " backported to 4.4.y, 4.9.y, 4.14.y",
    ),
    _spec(
        "SpeculationIndirectBranch",
        _kinds.TEXT,
        "speculation_indirect_branch",
        "Indirect branch speculation mitigation, e.g. 'conditional enabled'",
        since="5.11",
        source="fs/proc/array.c task_seccomp(); Documentation/filesystems/proc.rst",
    ),
    _spec(
        "Cpus_allowed",
        _kinds.HEX_WORDS,
        "cpus_allowed",
        "CPUs the task may run on (hex mask, as a set of CPU numbers)",
        since="2.6.12",
        printed=CPUSETS,
        source=f"{_CPU_SOURCE}; man 5 proc_pid_status says 2.6.24, the source says 2.6.12",
    ),
    _spec(
        "Cpus_allowed_list",
        _kinds.RANGE_LIST,
        "cpus_allowed_list",
        "CPUs the task may run on (range list, as a set of CPU numbers)",
        since="2.6.26",
        printed=CPUSETS,
        source=f"{_CPU_SOURCE}; man 5 proc_pid_status (since 2.6.26)",
    ),
    _spec(
        "Mems_allowed",
        _kinds.HEX_WORDS,
        "mems_allowed",
        "Memory nodes the task may use (hex mask, as a set of node numbers)",
        since="2.6.12",
        printed="CONFIG_CPUSETS",
        source=f"{_MEM_SET_SOURCE}; man 5 proc_pid_status says 2.6.24, the source says 2.6.12",
    ),
    _spec(
        "Mems_allowed_list",
        _kinds.RANGE_LIST,
        "mems_allowed_list",
        "Memory nodes the task may use (range list, as a set of node numbers)",
        since="2.6.26",
        printed="CONFIG_CPUSETS",
        source=f"{_MEM_SET_SOURCE}; man 5 proc_pid_status (since 2.6.26)",
    ),
    _spec(
        "voluntary_ctxt_switches",
        _kinds.INT,
        "voluntary_ctxt_switches",
        "Context switches where the task gave up the CPU",
        since="2.6.23",
        source="fs/proc/array.c task_context_switch_counts(); commit b663a79c1915",
    ),
    _spec(
        "nonvoluntary_ctxt_switches",
        _kinds.INT,
        "nonvoluntary_ctxt_switches",
        "Context switches where the task was preempted",
        since="2.6.23",
        source="fs/proc/array.c task_context_switch_counts(); commit b663a79c1915",
    ),
    _spec(
        "x86_Thread_features",
        _kinds.WORDS,
        "x86_thread_features",
        "x86 user shadow stack features enabled for the thread (e.g. shstk, wrss)",
        since="6.6",
        printed="x86 with CONFIG_X86_USER_SHADOW_STACK",
        source="arch/x86/kernel/cpu/proc.c arch_proc_pid_thread_features()",
    ),
    _spec(
        "x86_Thread_features_locked",
        _kinds.WORDS,
        "x86_thread_features_locked",
        "x86 user shadow stack features locked for the thread",
        since="6.6",
        printed="x86 with CONFIG_X86_USER_SHADOW_STACK",
        source="arch/x86/kernel/cpu/proc.c arch_proc_pid_thread_features()",
    ),
    # Exec-shield lines of Red Hat kernels (RHEL 3 to 5); not in mainline. The
    # values are addresses in hex, some followed by a meaningless " kB", so they
    # are kept as printed.
    _spec(
        "StaBrk",
        _kinds.TEXT,
        None,
        "Exec-shield: start of the heap (hex address, as printed)",
        mainline=False,
        printed="Red Hat exec-shield kernels only",
        source="RHEL 5 exec-shield patch to fs/proc/task_mmu.c; corpus 017",
    ),
    _spec(
        "Brk",
        _kinds.TEXT,
        None,
        "Exec-shield: current end of the heap (hex address, as printed)",
        mainline=False,
        printed="Red Hat exec-shield kernels only",
        source="RHEL 5 exec-shield patch to fs/proc/task_mmu.c; corpus 017",
    ),
    _spec(
        "StaStk",
        _kinds.TEXT,
        None,
        "Exec-shield: start of the stack (hex address, as printed)",
        mainline=False,
        printed="Red Hat exec-shield kernels only",
        source="RHEL 5 exec-shield patch to fs/proc/task_mmu.c; corpus 017",
    ),
    _spec(
        "ExecLim",
        _kinds.TEXT,
        None,
        "Exec-shield: the code segment limit (hex address, as printed)",
        mainline=False,
        printed="Red Hat exec-shield kernels only",
        source="RHEL 5 exec-shield patch to fs/proc/array.c; corpus 017",
    ),
    # The s390 register dump (task_show_regs() in arch/s390/kernel/traps.c),
    # removed by commit 261cd298a8c3. Kept as text, continuation lines included.
    _spec(
        "task",
        _kinds.TEXT,
        None,
        "s390: task and kernel stack pointers",
        removed="2.6.38",
        printed=S390,
        source="arch/s390/kernel/traps.c task_show_regs()",
    ),
    _spec(
        "User PSW ",
        _kinds.TEXT,
        None,
        "s390: user program status word (the key has a space before the colon)",
        removed="2.6.38",
        printed=S390,
        source="arch/s390/kernel/traps.c task_show_regs()",
    ),
    _spec(
        "User GPRS",
        _kinds.TEXT,
        None,
        "s390: user general purpose registers (four lines)",
        removed="2.6.38",
        printed=S390,
        source="arch/s390/kernel/traps.c task_show_regs()",
    ),
    _spec(
        "User ACRS",
        _kinds.TEXT,
        None,
        "s390: user access registers (four lines)",
        removed="2.6.38",
        printed=S390,
        source="arch/s390/kernel/traps.c task_show_regs()",
    ),
)

#: Every field the kernel has printed, by its name before the colon, in print order.
FIELDS: Mapping[str, FieldSpec] = MappingProxyType({spec.name: spec for spec in _TABLE})

#: The fields of :class:`~procstatus.Memory`, in print order.
MEMORY_FIELDS = tuple(spec for spec in _TABLE if spec.kind is _kinds.KB)

BY_ATTRIBUTE: Mapping[str, FieldSpec] = MappingProxyType(
    {spec.attribute: spec for spec in _TABLE if spec.attribute is not None}
)
