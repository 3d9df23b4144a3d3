"""Prometheus metrics from /proc/PID/status, exact peaks included (``procstatus[prometheus]``).

- :class:`ProcStatusCollector` is a prometheus_client collector: register it
  with ``REGISTRY.register(ProcStatusCollector())`` in any program that already
  exports metrics. Each scrape lists the processes and reads each one's status
  once (:func:`procstatus.read_pid`), so all the values of a process come from
  one consistent text, and no read ever blocks on the target.
- :func:`register_self_peak` adds the calling process's own peak RSS next to
  prometheus_client's default ``process_*`` metrics.
- :func:`serve` and :class:`MetricsServer` (from ``procstatus._serve``) serve
  ``/metrics`` over HTTP: ``procstatus serve`` is built on them.

Strategy: one path per scrape. Series are grouped by process name by default
(bounded cardinality, as process-exporter does) and exported per process only
when asked. Processes that vanish or may not be read are counted and skipped,
never failing a scrape; only a proc root that is not one fails it (then the
exporter is broken, and the scrape failing is how Prometheus notices: ``up``
becomes 0). The optional peak-per-interval mode resets each process's VmHWM
after reading it, through :func:`procstatus.reset_peak`; the page
docs/prometheus.md says what that changes for every other reader. The
optional PSS mode also reads each selected process's smaps_rollup
(``procstatus._read_rollup.iter_rollups``, with its ``max_rss`` guard): a
second, costlier read per process (docs/shared-memory.md), so it is opt-in.

Importing this module imports prometheus_client; ``import procstatus`` never does.
"""

from __future__ import annotations

import fnmatch
import os
import pwd
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Optional, Union

import attrs
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector, CollectorRegistry

from ._errors import (
    ProcessNotFoundError,
    ProcfsNotFoundError,
    RollupParseError,
    RssLimitExceededError,
    StatusParseError,
)
from ._model import ProcStatus
from ._peak import reset_peak
from ._procfs import UID_MAX, check_id, list_pids, root_str
from ._read import read_memory, read_pid
from ._read_rollup import RollupError, iter_rollups
from ._rollup import Rollup
from ._serve import DEFAULT_ADDRESS, DEFAULT_PORT, MetricsServer, exporter_registry, serve

__all__ = [
    "DEFAULT_ADDRESS",
    "DEFAULT_PORT",
    "FORGET_AFTER_SCRAPES",
    "METRICS",
    "ROLLUP_METRICS",
    "ROLLUP_SKIP_REASONS",
    "SKIP_REASONS",
    "MetricSpec",
    "MetricsServer",
    "ProcStatusCollector",
    "exporter_registry",
    "register_self_peak",
    "serve",
]

PREFIX = "procstatus_"

#: Why a process was left out of a scrape: the label values of
#: ``procstatus_exporter_skipped_processes_total``.
SKIP_REASONS = ("gone", "denied", "unparsable", "unreadable")

#: Why a selected process's smaps_rollup was not read in the PSS mode: the label
#: values of ``procstatus_exporter_skipped_rollups_total``. ``over_max_rss``:
#: its RSS was above ``pss_max_rss``, so its page tables were not walked.
ROLLUP_SKIP_REASONS = ("gone", "denied", "unparsable", "unreadable", "over_max_rss")

_SUM_OVERCOUNTS = (
    " A sum over processes counts pages they share (libraries, shared memory,"
    " copy-on-write pages after fork) once in each of them, so it can exceed"
    " the memory really used."
)


@attrs.frozen
class MetricSpec:
    """One exported quantity: where it comes from and how each mode names it.

    ``stem`` is the name after ``procstatus_process_`` (per process) or after
    ``procstatus_group_max_`` / ``procstatus_group_sum_`` (per name group).
    ``aggregations`` lists the group forms exported: ``"max"``, ``"sum"``.
    """

    attribute: str  # the ProcStatus attribute
    line: str  # the status line it is read from
    stem: str
    description: str
    aggregations: tuple[str, ...]


#: The gauges, in the order they are exported; context switches, the process
#: count and the exporter's own health are separate (see docs/prometheus.md).
METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        attribute="peak_rss",
        line="VmHWM",
        stem="resident_memory_peak_bytes",
        description="Peak resident set size (high-water mark of VmRSS) since the process"
        " started or its peak was last reset",
        aggregations=("max",),
    ),
    MetricSpec(
        attribute="rss",
        line="VmRSS",
        stem="resident_memory_bytes",
        description="Resident set size now",
        aggregations=("max", "sum"),
    ),
    MetricSpec(
        attribute="rss_anon",
        line="RssAnon",
        stem="resident_memory_anon_bytes",
        description="Resident anonymous memory now (heap, stacks, private mappings)",
        aggregations=("max", "sum"),
    ),
    MetricSpec(
        attribute="rss_file",
        line="RssFile",
        stem="resident_memory_file_bytes",
        description="Resident file-backed memory now (program text, libraries, mapped files)",
        aggregations=("max", "sum"),
    ),
    MetricSpec(
        attribute="rss_shmem",
        line="RssShmem",
        stem="resident_memory_shmem_bytes",
        description="Resident shared memory now (System V and POSIX shm, shared anonymous"
        " mappings, tmpfs files)",
        aggregations=("max", "sum"),
    ),
    MetricSpec(
        attribute="swap",
        line="VmSwap",
        stem="swap_bytes",
        description="Anonymous memory swapped out now",
        aggregations=("max", "sum"),
    ),
    MetricSpec(
        attribute="size",
        line="VmSize",
        stem="virtual_memory_bytes",
        description="Virtual memory size now (mapped, not necessarily resident)",
        aggregations=("max", "sum"),
    ),
    MetricSpec(
        attribute="peak_size",
        line="VmPeak",
        stem="virtual_memory_peak_bytes",
        description="Peak virtual memory size since the process started",
        aggregations=("max",),
    ),
    MetricSpec(
        attribute="threads",
        line="Threads",
        stem="threads",
        description="Number of threads",
        aggregations=("max", "sum"),
    ),
)

#: The PSS mode's gauges, from /proc/PID/smaps_rollup (``attribute`` is the
#: :class:`procstatus.Rollup` attribute, ``line`` its source).
ROLLUP_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        attribute="pss",
        line="Pss",
        stem="proportional_memory_bytes",
        description="Proportional set size (PSS): resident memory with each page divided by"
        " the number of processes that map it",
        aggregations=("max", "sum"),
    ),
    MetricSpec(
        attribute="uss",
        line="Private_Clean, Private_Dirty and Private_Hugetlb",
        stem="unique_memory_bytes",
        description="Unique set size (USS): resident memory no other process maps, what the"
        " process's exit would give back",
        aggregations=("max", "sum"),
    ),
)

_ROLLUP_SUM_COUNTS_ONCE = {
    "pss": " Unlike a sum of RSS, a sum of PSS counts every shared page once in all:"
    " it is the memory the group really uses (processes whose smaps_rollup was not read"
    " are left out: see procstatus_group_rollup_processes).",
    "uss": " A sum of USS leaves out every page the processes share, also among"
    " themselves: a lower bound of what the group uses.",
}

# Context switches are counted per thread: /proc/PID/status shows the counts of
# the thread group leader alone (fs/proc/array.c task_context_switch_counts
# prints p->nvcsw and p->nivcsw of the task read), never a sum over threads.
_SWITCH_KINDS = (
    ("voluntary", "voluntary_ctxt_switches"),
    ("nonvoluntary", "nonvoluntary_ctxt_switches"),
)
_NO_SWITCHES = (0,) * len(_SWITCH_KINDS)

#: How many scrapes a name group without any process keeps the context switch
#: counts of its exited processes (so that its counter goes on where it was when
#: a process of that name comes back, as a restarting service does); after
#: that the group is forgotten, and its counter starts again if the name returns.
FORGET_AFTER_SCRAPES = 20


@attrs.frozen
class _Switches:
    """One process's context switch counts, as last read, and the group they count in."""

    group: str
    counts: tuple[int, ...]
    #: Its counts when it joined ``group``: zeros for a process first seen (all
    #: it did since it started counts), the counts it had for one that renamed
    #: itself (those stay with its old group).
    base: tuple[int, ...]


_SWITCHES_HELP = (
    "Context switches of the main thread (thread group leader) only, from the"
    " voluntary_ctxt_switches and nonvoluntary_ctxt_switches lines (label kind):"
    " the status file counts each thread separately"
)

# In the peak-per-interval mode the VmHWM series is named differently: its
# value means something else (the peak since the previous scrape), and a query
# written for one meaning must not silently read the other.
_INTERVAL_PEAK_STEM = "resident_memory_interval_peak_bytes"
_INTERVAL_PEAK_DESCRIPTION = (
    "Peak resident set size since the previous scrape: VmHWM read, then reset to VmRSS"
    " through /proc/PID/clear_refs (peak-per-interval mode; the reset also changes what"
    " every other reader of this process's VmHWM and ru_maxrss sees)"
)


def _source(spec_line: str) -> str:
    return f" (from the {spec_line} line of /proc/PID/status)."


def _rollup_source(spec_line: str) -> str:
    lines = "lines" if "," in spec_line else "line"
    return f" (from the {spec_line} {lines} of /proc/PID/smaps_rollup)."


class ProcStatusCollector(Collector):
    """A prometheus_client collector of /proc/PID/status metrics (see docs/prometheus.md).

    ``root`` is the proc root (a container's procfs, or a fake tree in tests).
    Selection: ``names`` (shell-style patterns of the process name, as
    :func:`fnmatch.fnmatchcase` matches them), ``users`` (user names or uids,
    matched against the effective uid, as ``ps -u`` does) and ``pids``; a process
    is exported when it matches every kind of selection given (any pattern, any
    user, any pid). Only processes with memory lines are exported: kernel
    threads and zombies have none.

    By default one series per process name (label ``name``); ``per_process=True``
    adds series per process (labels ``pid`` and ``name``). ``reset_peaks=True``
    turns on the peak-per-interval mode: after reading a process's VmHWM the
    collector resets it (:func:`procstatus.reset_peak`), which every other reader
    of that process's peak then sees too. ``pss=True`` also reads each selected
    process's smaps_rollup and exports PSS and USS (:data:`ROLLUP_METRICS`);
    that read walks the process's page tables (about 10 ms per GiB of RSS), and
    ``pss_max_rss`` (bytes) skips the processes whose RSS is above it.

    Raises TypeError or ValueError for a bad argument (a str where a list is
    expected, an unknown user name, a pid out of range, ``pss_max_rss`` without
    ``pss``); ``collect()`` raises
    ProcfsNotFoundError when ``root`` is not a proc root and ProcfsPermissionError
    when it may not be listed, never an error of a single process.
    """

    def __init__(
        self,
        *,
        root: Union[str, os.PathLike[str]] = "/proc",
        names: Sequence[str] = (),
        users: Sequence[Union[int, str]] = (),
        pids: Sequence[int] = (),
        per_process: bool = False,
        reset_peaks: bool = False,
        pss: bool = False,
        pss_max_rss: Optional[int] = None,
    ) -> None:
        self._root = root_str(root)
        self._names = tuple(str(name) for name in _check_list(names, "names", str))
        self._uids = frozenset(_uid(user) for user in _check_list(users, "users", (int, str)))
        self._pids = tuple(sorted({check_id(pid) for pid in _check_list(pids, "pids", int)}))
        self._per_process = bool(per_process)
        self._reset_peaks = bool(reset_peaks)
        self._pss = bool(pss)
        self._pss_max_rss = _check_max_rss(pss_max_rss, self._pss)
        # One scrape at a time: a threaded HTTP server may call collect()
        # concurrently, and both the context switch bookkeeping and the
        # read-then-reset of the interval mode must see scrapes in order.
        self._lock = threading.Lock()
        self._skipped = dict.fromkeys(SKIP_REASONS, 0)
        self._skipped_rollups = dict.fromkeys(ROLLUP_SKIP_REASONS, 0)
        # Group counters must never go down, but a group's sum of per-process
        # counts drops when one of its processes exits. So every process is
        # tracked from scrape to scrape (_Switches), and what the ones that
        # left a group had counted in it is kept (_departed) and added back.
        self._switches: dict[int, _Switches] = {}
        self._departed: dict[str, tuple[int, ...]] = {}
        # Scrapes since each group of _departed last had a tracked process.
        self._idle: dict[str, int] = {}

    def describe(self) -> Iterable[Metric]:
        """The metric families this collector exports, without samples.

        prometheus_client calls this on ``register()`` to check for duplicate
        names; without it, registering would run a whole scrape.
        """
        return self._families(samples=False)

    def collect(self) -> Iterable[Metric]:
        """Scan the processes once and return every metric family with its samples."""
        started = time.perf_counter()
        with self._lock:
            processes, running = self._scan()
            rollups = self._rollups(processes) if self._pss else {}
            families = self._families(
                samples=True, processes=processes, running=running, rollups=rollups
            )
            families.extend(self._health(time.perf_counter() - started))
        return families

    # ---- reading ------------------------------------------------------------------

    def _scan(self) -> tuple[list[tuple[int, ProcStatus]], frozenset[int]]:
        """The selected processes with their status, and every pid still running.

        Running: listed and not found gone when read, whether selected, skipped
        for another reason (denied, unparsable) or not.
        """
        pids = self._pids if self._pids else list_pids(self._root)
        selected = []
        gone = set()
        for pid in pids:
            try:
                status = self._read(pid)
            except ProcessNotFoundError:
                gone.add(pid)
                continue
            if status is None or not self._selects(status):
                continue
            if self._reset_peaks and not self._reset(pid):
                continue
            selected.append((pid, status))
        return selected, frozenset(pids).difference(gone)

    def _read(self, pid: int) -> Optional[ProcStatus]:
        """The status of ``pid``; None when skipped (counted), ProcessNotFoundError when gone."""
        try:
            return read_pid(pid, self._root)
        except ProcessNotFoundError:
            self._skipped["gone"] += 1
            raise
        except PermissionError:
            self._skipped["denied"] += 1
        except StatusParseError:
            self._skipped["unparsable"] += 1
        except ProcfsNotFoundError:
            raise  # the root itself is gone: the exporter is broken, not one process
        except OSError:
            # Only under a root that is not a real procfs (a FIFO or an oversized
            # file where status should be, EIO from a disk): ProcfsFileError and such.
            self._skipped["unreadable"] += 1
        return None

    def _rollups(self, processes: Sequence[tuple[int, ProcStatus]]) -> dict[int, Rollup]:
        """The smaps_rollup of each selected process that could be read; the others counted."""
        asked = [pid for pid, _ in processes]
        skipped: set[int] = set()

        def skip(pid: int, error: RollupError) -> None:
            skipped.add(pid)
            if isinstance(error, RssLimitExceededError):
                self._skipped_rollups["over_max_rss"] += 1
            elif isinstance(error, PermissionError):
                self._skipped_rollups["denied"] += 1  # another user's: ptrace read access
            elif isinstance(error, (RollupParseError, StatusParseError)):
                self._skipped_rollups["unparsable"] += 1
            elif isinstance(error, ProcfsNotFoundError):
                raise error  # the root itself is gone: the exporter is broken
            else:
                self._skipped_rollups["unreadable"] += 1

        rollups = {
            pid: rollup
            for pid, rollup in iter_rollups(
                self._root, pids=asked, max_rss=self._pss_max_rss, on_error=skip
            )
            if rollup is not None  # no memory any more: exited (a zombie) since its status
        }
        # iter_rollups leaves out a process that exited meanwhile without a word.
        self._skipped_rollups["gone"] += len(asked) - len(rollups) - len(skipped)
        return rollups

    def _selects(self, status: ProcStatus) -> bool:
        if status.peak_rss is None and status.rss is None:
            return False  # no address space: a kernel thread or a zombie
        if self._names:
            name = status.name or ""
            # fnmatch turns each "*" into a group that can match only one way
            # (Lib/fnmatch.py, translate), and comm names are at most 64 bytes
            # once escaped: no pattern can take long on them.
            if not any(fnmatch.fnmatchcase(name, pattern) for pattern in self._names):
                return False
        if self._uids:
            uid = status.uid
            if uid is None or uid.effective not in self._uids:
                return False
        return True

    def _reset(self, pid: int) -> bool:
        """Reset the peak after reading it; False when it may not be (the process is skipped)."""
        try:
            reset_peak(pid, root=self._root)
        except ProcessNotFoundError:
            # Gone after its status was read: what was read is still its last
            # peak, and nothing is left to reset.
            return True
        except PermissionError:
            self._skipped["denied"] += 1
            return False
        except ProcfsNotFoundError:
            raise  # the root itself is gone: the exporter is broken, not one process
        except OSError:
            # PeakResetUnavailableError (no clear_refs: an old kernel), and under
            # a root that is not a real procfs a FIFO or a directory where
            # clear_refs should be (ProcfsFileError, EISDIR) or EIO from a disk.
            self._skipped["unreadable"] += 1
            return False
        return True

    # ---- building families ------------------------------------------------------

    def _families(
        self,
        *,
        samples: bool,
        processes: Sequence[tuple[int, ProcStatus]] = (),
        running: frozenset[int] = frozenset(),
        rollups: Optional[dict[int, Rollup]] = None,
    ) -> list[Metric]:
        families: list[Metric] = []
        groups = _group(processes) if samples else {}
        families.append(
            _gauge(
                "group_processes",
                "Number of processes of each name (label name) that were read in this scrape.",
                ["name"],
                ((name, len(members)) for name, members in groups.items()),
            )
        )
        for spec in METRICS:
            stem, description = self._stem(spec)
            for aggregation in spec.aggregations:
                families.append(
                    _gauge(
                        f"group_{aggregation}_{stem}",
                        _group_help(spec, aggregation, description),
                        ["name"],
                        _aggregate(groups, spec.attribute, aggregation),
                    )
                )
        switches = CounterMetricFamily(
            f"{PREFIX}group_context_switches_total",
            _SWITCHES_HELP + ", summed over the processes of each name; the counts of"
            " processes that exited (or renamed themselves) are kept in the sum, so it"
            " never goes down.",
            labels=["name", "kind"],
        )
        if samples:
            totals = self._group_switches(processes, running, groups)
            for (name, kind), value in totals.items():
                switches.add_metric([name, kind], value)
        families.append(switches)
        if self._pss:
            families.extend(_rollup_group_families(processes, rollups or {}))
        if self._per_process:
            families.extend(self._process_families(processes))
            if self._pss:
                families.extend(_rollup_process_families(processes, rollups or {}))
        return families

    def _stem(self, spec: MetricSpec) -> tuple[str, str]:
        if self._reset_peaks and spec.attribute == "peak_rss":
            return _INTERVAL_PEAK_STEM, _INTERVAL_PEAK_DESCRIPTION
        return spec.stem, spec.description

    def _process_families(self, processes: Sequence[tuple[int, ProcStatus]]) -> list[Metric]:
        labelled = [(str(pid), _label(status.name), status) for pid, status in processes]
        families: list[Metric] = []
        for spec in METRICS:
            stem, description = self._stem(spec)
            family = GaugeMetricFamily(
                f"{PREFIX}process_{stem}",
                f"{description}, per process (labels pid, name){_source(spec.line)}",
                labels=["pid", "name"],
            )
            for pid, name, status in labelled:
                value = getattr(status, spec.attribute)
                if value is not None:
                    family.add_metric([pid, name], value)
            families.append(family)
        switches = CounterMetricFamily(
            f"{PREFIX}process_context_switches_total",
            _SWITCHES_HELP + ", per process (labels pid, name).",
            labels=["pid", "name", "kind"],
        )
        for pid, name, status in labelled:
            for kind, line in _SWITCH_KINDS:
                value = status.get(line)
                if value is not None:
                    switches.add_metric([pid, name, kind], value)
        families.append(switches)
        return families

    def _group_switches(
        self,
        processes: Sequence[tuple[int, ProcStatus]],
        running: frozenset[int],
        groups: dict[str, list[ProcStatus]],
    ) -> dict[tuple[str, str], int]:
        """Each group's counters: what its tracked processes counted in it, plus _departed.

        A process leaves its group's sum only when it is really gone (not
        listed, or gone when read) or its pid was reused (its counts went
        down: /proc/PID/status has no start time to tell otherwise). One that
        is running but was skipped this time (denied, unparsable, no longer
        selected) keeps its last counts, so that coming back does not count
        them twice. One that renamed itself leaves what it counted so far in
        its old group; the new group counts from there.
        """
        read: dict[int, tuple[str, tuple[int, ...]]] = {}
        for pid, status in processes:
            counts = tuple(status.get(line) for _, line in _SWITCH_KINDS)
            if None not in counts:
                read[pid] = (_label(status.name), counts)
        tracked: dict[int, _Switches] = {}
        for pid, last in self._switches.items():
            now = read.get(pid)
            if now is None:
                if pid in running:
                    tracked[pid] = last  # skipped this time: kept as last read
                else:
                    self._depart(last)
                continue
            group, counts = now
            if any(new < old for new, old in zip(counts, last.counts)):
                self._depart(last)  # a new process with the old one's pid
                tracked[pid] = _Switches(group=group, counts=counts, base=_NO_SWITCHES)
            elif group != last.group:
                self._depart(last)  # renamed: the old group keeps what it counted
                tracked[pid] = _Switches(group=group, counts=counts, base=last.counts)
            else:
                tracked[pid] = attrs.evolve(last, counts=counts)
        for pid, (group, counts) in read.items():
            if pid not in tracked:  # first seen: everything it did since it started
                tracked[pid] = _Switches(group=group, counts=counts, base=_NO_SWITCHES)
        self._switches = tracked
        self._forget_idle_groups({entry.group for entry in tracked.values()})
        totals: dict[tuple[str, str], int] = {}
        for name in groups:
            kept = self._departed.get(name, _NO_SWITCHES)
            for index, (kind, _) in enumerate(_SWITCH_KINDS):
                totals[name, kind] = kept[index]
        for entry in tracked.values():
            if entry.group in groups:
                for index, (kind, _) in enumerate(_SWITCH_KINDS):
                    totals[entry.group, kind] += entry.counts[index] - entry.base[index]
        return totals

    def _depart(self, entry: _Switches) -> None:
        """Keep what a process that leaves its group counted there."""
        kept = self._departed.get(entry.group, _NO_SWITCHES)
        self._departed[entry.group] = tuple(
            sum(values) for values in zip(kept, entry.counts, (-base for base in entry.base))
        )

    def _forget_idle_groups(self, live: set[str]) -> None:
        """Drop the kept counts of groups without a tracked process for FORGET_AFTER_SCRAPES.

        Without this, every name a process ever had would be kept forever (a
        host that runs programs with generated names). A group that comes back
        within that many scrapes (a service restarting) goes on counting; one
        that comes back later starts again, which rate() reads as a counter reset.
        """
        for group in list(self._departed):
            if group in live:
                self._idle.pop(group, None)
                continue
            idle = self._idle.get(group, 0) + 1
            if idle > FORGET_AFTER_SCRAPES:
                del self._departed[group]
                self._idle.pop(group, None)
            else:
                self._idle[group] = idle

    def _health(self, duration: float) -> list[Metric]:
        scrape = GaugeMetricFamily(
            f"{PREFIX}exporter_scrape_duration_seconds",
            "Time the collector took for this scrape: listing the processes, reading and"
            " parsing each status (and resetting peaks in the peak-per-interval mode, reading"
            " smaps_rollup in the PSS mode).",
            value=duration,
        )
        skipped = CounterMetricFamily(
            f"{PREFIX}exporter_skipped_processes_total",
            "Processes left out of a scrape since the exporter started, by reason: gone (exited"
            " between listing and reading), denied (status not readable, or in the"
            " peak-per-interval mode clear_refs not writable, by this user), unparsable"
            " (status text no kernel writes), unreadable (any other error of that process).",
            labels=["reason"],
        )
        for reason in SKIP_REASONS:
            skipped.add_metric([reason], self._skipped[reason])
        if not self._pss:
            return [scrape, skipped]
        rollups = CounterMetricFamily(
            f"{PREFIX}exporter_skipped_rollups_total",
            "Selected processes whose smaps_rollup was not read in the PSS mode since the"
            " exporter started, by reason: gone (exited after its status was read), denied"
            " (another user's process: smaps_rollup needs ptrace read access), unparsable"
            " (a text no kernel writes), unreadable (any other error), over_max_rss (RSS above"
            " the pss_max_rss guard, so its page tables were not walked).",
            labels=["reason"],
        )
        for reason in ROLLUP_SKIP_REASONS:
            rollups.add_metric([reason], self._skipped_rollups[reason])
        return [scrape, skipped, rollups]


def _check_max_rss(max_rss: object, pss: bool) -> Optional[int]:
    if max_rss is None:
        return None
    if isinstance(max_rss, bool) or not isinstance(max_rss, int):
        raise TypeError(f"pss_max_rss must be an int (bytes) or None, not {type(max_rss).__name__}")
    if not pss:
        raise ValueError("pss_max_rss needs pss=True (it guards the smaps_rollup reads)")
    if max_rss < 0:
        raise ValueError(f"pss_max_rss must not be negative, not {max_rss}")
    return int(max_rss)


def _check_list(values: object, what: str, kinds: Union[type, tuple[type, ...]]) -> list[object]:
    # A str is a sequence too: names="nginx" would select the names n, g, i and x.
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{what} must be a list, not {type(values).__name__}")
    items = list(values)
    for item in items:
        if isinstance(item, bool) or not isinstance(item, kinds):
            raise TypeError(f"{what} must hold {_kind_names(kinds)}, not {type(item).__name__}")
    return items


def _kind_names(kinds: Union[type, tuple[type, ...]]) -> str:
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    return " or ".join(kind.__name__ for kind in kinds)


def _uid(user: object) -> int:
    if isinstance(user, int):
        return check_id(user, "uid", maximum=UID_MAX)
    try:
        return pwd.getpwnam(str(user)).pw_uid
    except KeyError:
        raise ValueError(f"no such user: {user!r}") from None


def _label(name: Optional[str]) -> str:
    """A process name as a label value: valid UTF-8, undecodable bytes as ``\\xNN``.

    procstatus keeps undecodable bytes of a name as surrogates (surrogateescape);
    the text format is UTF-8, where surrogates cannot be written.
    """
    if name is None:
        return ""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _group(processes: Sequence[tuple[int, ProcStatus]]) -> dict[str, list[ProcStatus]]:
    groups: dict[str, list[ProcStatus]] = {}
    for _, status in processes:
        groups.setdefault(_label(status.name), []).append(status)
    return dict(sorted(groups.items()))  # the same order in every scrape


def _aggregate(
    groups: Mapping[str, Sequence[object]], attribute: str, aggregation: str
) -> Iterable[tuple[str, int]]:
    for name, members in groups.items():
        values = [value for value in (getattr(m, attribute) for m in members) if value is not None]
        if values:  # a line no member printed (an older kernel) stays absent, not 0
            yield name, max(values) if aggregation == "max" else sum(values)


def _group_help(spec: MetricSpec, aggregation: str, description: str) -> str:
    if aggregation == "max":
        text = f"{description}: the largest value among the processes of each name (label name)"
        return text + _source(spec.line)
    text = f"{description}: summed over the processes of each name (label name)"
    text += _source(spec.line)
    if spec.attribute.startswith("rss") or spec.attribute == "size":
        text += _SUM_OVERCOUNTS
    return text


def _rollup_group_families(
    processes: Sequence[tuple[int, ProcStatus]], rollups: dict[int, Rollup]
) -> list[Metric]:
    """The PSS mode's families per name group, from the rollups that were read."""
    groups: dict[str, list[Rollup]] = {}
    for pid, status in processes:
        rollup = rollups.get(pid)
        if rollup is not None:
            groups.setdefault(_label(status.name), []).append(rollup)
    groups = dict(sorted(groups.items()))
    families: list[Metric] = [
        _gauge(
            "group_rollup_processes",
            "Number of processes of each name (label name) whose smaps_rollup was read in this"
            " scrape: the processes in the PSS and USS figures (PSS mode).",
            ["name"],
            ((name, len(members)) for name, members in groups.items()),
        )
    ]
    for spec in ROLLUP_METRICS:
        for aggregation in spec.aggregations:
            if aggregation == "max":
                text = f"{spec.description}: the largest value among the processes of each name"
            else:
                text = f"{spec.description}: summed over the processes of each name"
            text += f" (label name){_rollup_source(spec.line)}"
            if aggregation == "sum":
                text += _ROLLUP_SUM_COUNTS_ONCE[spec.attribute]
            families.append(
                _gauge(
                    f"group_{aggregation}_{spec.stem}",
                    text,
                    ["name"],
                    _aggregate(groups, spec.attribute, aggregation),
                )
            )
    return families


def _rollup_process_families(
    processes: Sequence[tuple[int, ProcStatus]], rollups: dict[int, Rollup]
) -> list[Metric]:
    families: list[Metric] = []
    for spec in ROLLUP_METRICS:
        family = GaugeMetricFamily(
            f"{PREFIX}process_{spec.stem}",
            f"{spec.description}, per process (labels pid, name){_rollup_source(spec.line)}",
            labels=["pid", "name"],
        )
        for pid, status in processes:
            rollup = rollups.get(pid)
            value = None if rollup is None else getattr(rollup, spec.attribute)
            if value is not None:
                family.add_metric([str(pid), _label(status.name)], value)
        families.append(family)
    return families


def _gauge(
    stem: str, documentation: str, labels: list[str], samples: Iterable[tuple[str, int]]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(PREFIX + stem, documentation, labels=labels)
    for name, value in samples:
        family.add_metric([name], value)
    return family


# ---- the exporter's own peak ---------------------------------------------------------


class _SelfPeakCollector(Collector):
    """VmHWM of the process that collects, named like prometheus_client's process metrics."""

    def __init__(self, namespace: str) -> None:
        self._name = (
            f"{namespace}_process_resident_memory_peak_bytes"
            if namespace
            else "process_resident_memory_peak_bytes"
        )

    def describe(self) -> Iterable[Metric]:
        return [self._family()]

    def collect(self) -> Iterable[Metric]:
        family = self._family()
        # os.getpid() at each scrape: after a fork the child reports its own peak.
        memory = read_memory(os.getpid())
        if memory is not None and memory.peak_rss is not None:
            family.add_metric([], memory.peak_rss)
        return [family]

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(
            self._name,
            "Peak resident memory size of this process in bytes (VmHWM of /proc/self/status).",
        )


def register_self_peak(registry: CollectorRegistry = REGISTRY, *, namespace: str = "") -> Collector:
    """Export this process's peak RSS next to prometheus_client's default process metrics.

    Registers a collector of ``process_resident_memory_peak_bytes`` (VmHWM of the
    calling process, read at each scrape) with ``registry``; ``namespace`` is
    prepended as prometheus_client's ``ProcessCollector`` does
    (``NAMESPACE_process_...``). Returns the collector, for
    ``registry.unregister()``. Raises ValueError when the name is already taken.
    """
    collector = _SelfPeakCollector(namespace)
    registry.register(collector)
    return collector
