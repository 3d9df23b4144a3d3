"""procstatus.prometheus: the collector on fake proc trees, read back with prometheus_client's
own text parser, the self-monitoring helper, and the names and help texts of every metric.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional, Union

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("prometheus_client", reason="needs the prometheus extra (prometheus_client)")

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from helpers_live import kb_field, raw_status, requires_proc
from helpers_serve import spawn_peaked, unique_name
from procstatus import ProcfsNotFoundError, read_rollup
from procstatus.prometheus import (
    FORGET_AFTER_SCRAPES,
    METRICS,
    ROLLUP_SKIP_REASONS,
    SKIP_REASONS,
    ProcStatusCollector,
    register_self_peak,
)
from strategies import FEW, ROLLUP_DAMAGE_BASES, kernel_statuses, mutated

MiB = 1024 * 1024
DOCS = Path(__file__).resolve().parents[1] / "docs" / "prometheus.md"


def status_text(
    pid: int,
    name: str,
    *,
    hwm_kb: int,
    rss_kb: int,
    uid: int = 1000,
    threads: int = 1,
    voluntary: int = 10,
    nonvoluntary: int = 2,
    split: bool = True,
) -> str:
    """A user process's status as Linux 6.x prints it; ``split=False``: before 4.5 (no RssAnon)."""
    anon = rss_kb // 4
    shmem = 4 if rss_kb >= 8 else 0
    lines = [
        f"Name:\t{name}",
        "State:\tS (sleeping)",
        f"Tgid:\t{pid}",
        f"Pid:\t{pid}",
        "PPid:\t1",
        f"Uid:\t{uid}\t{uid}\t{uid}\t{uid}",
        f"Gid:\t{uid}\t{uid}\t{uid}\t{uid}",
        f"VmPeak:\t{hwm_kb * 3:8d} kB",
        f"VmSize:\t{rss_kb * 3:8d} kB",
        f"VmHWM:\t{hwm_kb:8d} kB",
        f"VmRSS:\t{rss_kb:8d} kB",
    ]
    if split:
        lines += [
            f"RssAnon:\t{anon:8d} kB",
            f"RssFile:\t{rss_kb - anon - shmem:8d} kB",
            f"RssShmem:\t{shmem:8d} kB",
        ]
    lines += [
        "VmSwap:\t      16 kB",
        f"Threads:\t{threads}",
        f"voluntary_ctxt_switches:\t{voluntary}",
        f"nonvoluntary_ctxt_switches:\t{nonvoluntary}",
    ]
    return "\n".join(lines) + "\n"


KTHREAD = (
    "Name:\tkworker/0:1-events\nState:\tI (idle)\nTgid:\t2\nPid:\t2\nKthread:\t1\nThreads:\t1\n"
)
ZOMBIE = "Name:\tdefunct\nState:\tZ (zombie)\nTgid:\t3\nPid:\t3\nThreads:\t1\n"


def write(root: Path, pid: int, text: str) -> None:
    folder = root / str(pid)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "status").write_text(text, encoding="utf-8", errors="surrogateescape")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Three "worker"s (peaks 6, 9 and 7 MiB), a "db" of root's, a kernel thread, a zombie."""
    tree = tmp_path / "proc"
    write(tree, 2, KTHREAD)
    write(tree, 3, ZOMBIE)
    write(tree, 100, status_text(100, "worker", hwm_kb=6144, rss_kb=5120, threads=2))
    write(tree, 101, status_text(101, "worker", hwm_kb=9216, rss_kb=1024, voluntary=20))
    write(tree, 102, status_text(102, "worker", hwm_kb=7168, rss_kb=3072, threads=5))
    write(tree, 200, status_text(200, "db", hwm_kb=40960, rss_kb=30720, uid=0))
    return tree


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(collector: ProcStatusCollector) -> tuple[Samples, dict[str, str]]:
    """Serve the collector as text and read it back: samples by (name, labels), and help texts."""
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode("utf-8")
    samples: Samples = {}
    helps: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        helps[family.name] = family.documentation
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return samples, helps


def value(samples: Samples, metric: str, **labels: str) -> Optional[float]:
    return samples.get((metric, frozenset(labels.items())))


def names_of(samples: Samples, metric: str) -> set[str]:
    return {dict(labels)["name"] for name, labels in samples if name == metric}


# ---- grouping by name (the default) ----------------------------------------------------


def test_a_group_exports_the_largest_peak_not_a_sum(root: Path) -> None:
    samples, _ = scrape(ProcStatusCollector(root=root))
    peak = "procstatus_group_max_resident_memory_peak_bytes"
    assert value(samples, peak, name="worker") == 9 * MiB
    assert value(samples, peak, name="db") == 40 * MiB


def test_a_group_exports_largest_and_summed_current_values(root: Path) -> None:
    samples, _ = scrape(ProcStatusCollector(root=root))
    assert value(samples, "procstatus_group_processes", name="worker") == 3
    assert value(samples, "procstatus_group_max_resident_memory_bytes", name="worker") == 5 * MiB
    assert value(samples, "procstatus_group_sum_resident_memory_bytes", name="worker") == 9 * MiB
    assert value(samples, "procstatus_group_sum_threads", name="worker") == 8
    assert value(samples, "procstatus_group_max_threads", name="worker") == 5
    assert value(samples, "procstatus_group_sum_swap_bytes", name="worker") == 3 * 16 * 1024
    assert value(samples, "procstatus_group_sum_resident_memory_shmem_bytes", name="db") == 4096
    assert value(samples, "procstatus_group_max_virtual_memory_peak_bytes", name="db") == 120 * MiB


def test_kernel_threads_and_zombies_are_not_exported(root: Path) -> None:
    samples, _ = scrape(ProcStatusCollector(root=root))
    assert names_of(samples, "procstatus_group_processes") == {"worker", "db"}


def test_no_per_process_series_unless_asked(root: Path) -> None:
    samples, _ = scrape(ProcStatusCollector(root=root))
    assert not [name for name, _ in samples if name.startswith("procstatus_process_")]


def test_group_context_switches_are_counters_summed_over_the_group(root: Path) -> None:
    samples, _ = scrape(ProcStatusCollector(root=root))
    switches = "procstatus_group_context_switches_total"
    assert value(samples, switches, name="worker", kind="voluntary") == 10 + 20 + 10
    assert value(samples, switches, name="worker", kind="nonvoluntary") == 6


def test_group_context_switches_never_go_down_when_a_process_exits(root: Path) -> None:
    collector = ProcStatusCollector(root=root)
    switches = "procstatus_group_context_switches_total"
    before, _ = scrape(collector)
    assert value(before, switches, name="worker", kind="voluntary") == 40
    (root / "101" / "status").unlink()  # exits: its 20 switches are kept in the group's count
    after_exit, _ = scrape(collector)
    assert value(after_exit, switches, name="worker", kind="voluntary") == 40
    # A new process reuses pid 101 (counts start again): its 1 switch adds to the 40.
    write(root, 101, status_text(101, "worker", hwm_kb=1024, rss_kb=1024, voluntary=1))
    reused, _ = scrape(collector)
    assert value(reused, switches, name="worker", kind="voluntary") == 41


def test_a_process_skipped_for_one_scrape_is_not_counted_twice(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    collector = ProcStatusCollector(root=root)
    switches = "procstatus_group_context_switches_total"
    first, _ = scrape(collector)
    assert value(first, switches, name="worker", kind="voluntary") == 10 + 20 + 10
    # 101 is still running but may not be read this time: its last count stays.
    with monkeypatch.context() as patch:
        deny(patch, f"{root}/101/status")
        skipped, _ = scrape(collector)
    assert value(skipped, switches, name="worker", kind="voluntary") == 40
    # Readable again, 5 switches later: 45, not its whole count added once more.
    write(root, 101, status_text(101, "worker", hwm_kb=9216, rss_kb=1024, voluntary=25))
    again, _ = scrape(collector)
    assert value(again, switches, name="worker", kind="voluntary") == 45


def test_a_renamed_process_moves_its_switches_to_its_new_group(root: Path) -> None:
    collector = ProcStatusCollector(root=root)
    switches = "procstatus_group_context_switches_total"
    scrape(collector)
    write(root, 101, status_text(101, "renamed", hwm_kb=9216, rss_kb=1024, voluntary=25))
    renamed, _ = scrape(collector)
    # The 20 switches made as a worker stay with the workers; the new name
    # counts from there: 5, not 25 (which would count the 20 twice).
    assert value(renamed, switches, name="worker", kind="voluntary") == 40
    assert value(renamed, switches, name="renamed", kind="voluntary") == 5
    write(root, 101, status_text(101, "renamed", hwm_kb=9216, rss_kb=1024, voluntary=30))
    later, _ = scrape(collector)
    assert value(later, switches, name="worker", kind="voluntary") == 40
    assert value(later, switches, name="renamed", kind="voluntary") == 10


def test_a_group_without_processes_is_forgotten_after_a_while(root: Path) -> None:
    collector = ProcStatusCollector(root=root)
    switches = "procstatus_group_context_switches_total"
    scrape(collector)
    (root / "200" / "status").unlink()  # the only "db" exits with its 10 switches
    for _ in range(FORGET_AFTER_SCRAPES):
        scrape(collector)
    write(root, 201, status_text(201, "db", hwm_kb=1024, rss_kb=1024, voluntary=1))
    kept, _ = scrape(collector)  # back within the bound: the count goes on
    assert value(kept, switches, name="db", kind="voluntary") == 11
    (root / "201" / "status").unlink()
    for _ in range(FORGET_AFTER_SCRAPES + 1):
        scrape(collector)
    write(root, 202, status_text(202, "db", hwm_kb=1024, rss_kb=1024, voluntary=1))
    forgotten, _ = scrape(collector)  # a new series: it starts again
    assert value(forgotten, switches, name="db", kind="voluntary") == 1


def test_a_name_that_is_not_utf8_or_needs_escapes_survives_the_text_format(
    tmp_path: Path,
) -> None:
    # The kernel writes a backslash in a name as "\\" and a newline as "\n"
    # (fs/proc/array.c proc_task_name); the label is the name itself, and a byte
    # that is not UTF-8 becomes the text \xNN, since labels are UTF-8.
    write(tmp_path, 7, status_text(7, 'a"b\\\\c\udcff', hwm_kb=4, rss_kb=4))
    write(tmp_path, 8, status_text(8, "two\\nlines", hwm_kb=4, rss_kb=4))
    samples, _ = scrape(ProcStatusCollector(root=tmp_path))
    assert names_of(samples, "procstatus_group_processes") == {'a"b\\c\\xff', "two\nlines"}


def test_an_absent_line_is_absent_not_zero(tmp_path: Path) -> None:
    write(tmp_path, 7, status_text(7, "old-kernel", hwm_kb=4, rss_kb=4, split=False))
    samples, _ = scrape(ProcStatusCollector(root=tmp_path, per_process=True))
    assert value(samples, "procstatus_group_max_resident_memory_bytes", name="old-kernel") == 4096
    assert "old-kernel" not in names_of(samples, "procstatus_group_sum_resident_memory_anon_bytes")
    assert (
        value(samples, "procstatus_process_resident_memory_anon_bytes", pid="7", name="old-kernel")
        is None
    )


# ---- per process, on request -------------------------------------------------------------


def test_per_process_series_have_pid_and_name(root: Path) -> None:
    samples, _ = scrape(ProcStatusCollector(root=root, per_process=True))
    peak = "procstatus_process_resident_memory_peak_bytes"
    assert value(samples, peak, pid="101", name="worker") == 9 * MiB
    assert value(samples, peak, pid="102", name="worker") == 7 * MiB
    assert value(samples, "procstatus_process_threads", pid="102", name="worker") == 5
    switches = "procstatus_process_context_switches_total"
    assert value(samples, switches, pid="101", name="worker", kind="voluntary") == 20
    # The groups are still there.
    assert value(samples, "procstatus_group_processes", name="worker") == 3


# ---- selection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"names": ["worker"]}, {"worker"}),
        ({"names": ["d*", "nothing"]}, {"db"}),
        ({"names": ["[wd]?*"]}, {"worker", "db"}),
        ({"users": [0]}, {"db"}),
        ({"users": ["root"]}, {"db"}),
        ({"users": [1000, 0]}, {"worker", "db"}),
        ({"pids": [101, 200]}, {"worker", "db"}),
        ({"pids": [101], "names": ["db"]}, set()),
        ({"users": [1000], "names": ["*"], "pids": [100, 200]}, {"worker"}),
    ],
    ids=[
        "exact-name",
        "any-pattern",
        "character-class",
        "uid",
        "user-name",
        "two-users",
        "pids",
        "pid-and-name-must-both-match",
        "all-three",
    ],
)
def test_selection(root: Path, options: dict[str, list[object]], expected: set[str]) -> None:
    samples, _ = scrape(ProcStatusCollector(root=root, **options))  # type: ignore[arg-type]
    assert names_of(samples, "procstatus_group_processes") == expected


def test_uids_above_the_pid_range_are_selected(root: Path) -> None:
    # uid_t is unsigned 32-bit: uids go up to 4294967294 ((uid_t)-1 means none),
    # far above the largest pid, and user namespaces map ranges up there.
    write(root, 300, status_text(300, "mapped", hwm_kb=4, rss_kb=4, uid=4294967294))
    samples, _ = scrape(ProcStatusCollector(root=root, users=[4294967294]))
    assert names_of(samples, "procstatus_group_processes") == {"mapped"}


def test_selected_pids_count_in_their_groups(root: Path) -> None:
    samples, _ = scrape(ProcStatusCollector(root=root, pids=[100, 102]))
    assert value(samples, "procstatus_group_processes", name="worker") == 2
    assert (
        value(samples, "procstatus_group_max_resident_memory_peak_bytes", name="worker") == 7 * MiB
    )


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"names": "worker"}, TypeError, "names must be a list, not str"),
        ({"names": [b"worker"]}, TypeError, "names must hold str, not bytes"),
        (
            {"users": ["no-such-user-procstatus"]},
            ValueError,
            "no such user: 'no-such-user-procstatus'",
        ),
        ({"users": [True]}, TypeError, "users must hold int or str, not bool"),
        ({"pids": [-1]}, ValueError, "pid must be between 0 and 2147483647, not -1"),
        ({"users": [-1]}, ValueError, "uid must be between 0 and 4294967294, not -1"),
        (
            {"users": [4294967295]},
            ValueError,
            "uid must be between 0 and 4294967294, not 4294967295",
        ),
        ({"pids": 7}, TypeError, "pids must be a list, not int"),
        ({"root": ""}, ValueError, "root must not be empty"),
    ],
    ids=[
        "names-str",
        "names-bytes",
        "unknown-user",
        "user-bool",
        "pid-range",
        "uid-negative",
        "uid-minus-one",
        "pids-int",
        "root",
    ],
)
def test_bad_arguments(options: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        ProcStatusCollector(**options)  # type: ignore[arg-type]


# ---- what is skipped, and what fails ------------------------------------------------------


def deny(monkeypatch: pytest.MonkeyPatch, denied: str) -> None:
    """Make os.open fail with EACCES for one path (root ignores file modes)."""
    real_open = os.open

    def fake_open(path: str, flags: int, mode: int = 0o777) -> int:
        if path == denied:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", fake_open)


def test_processes_that_cannot_be_read_are_counted_and_skipped(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (root / "300").mkdir()  # listed, but gone when read
    write(root, 301, "Name:\tbroken\nVmRSS:\tlots\n")
    deny(monkeypatch, f"{root}/102/status")
    os.mkfifo(root / "303")  # where a process directory should be: ENOTDIR, gone
    (root / "304").mkdir()
    os.mkfifo(root / "304" / "status")  # not a procfs file: unreadable
    collector = ProcStatusCollector(root=root)
    skipped = "procstatus_exporter_skipped_processes_total"
    for scrape_number in (1, 2):
        samples, _ = scrape(collector)
        assert value(samples, "procstatus_group_processes", name="worker") == 2
        counts = {reason: value(samples, skipped, reason=reason) for reason in SKIP_REASONS}
        n = scrape_number
        assert counts == {"gone": 2 * n, "denied": n, "unparsable": n, "unreadable": n}


def test_every_skip_reason_is_exported_from_the_start(root: Path) -> None:
    samples, _ = scrape(ProcStatusCollector(root=root))
    for reason in SKIP_REASONS:
        assert value(samples, "procstatus_exporter_skipped_processes_total", reason=reason) == 0


def test_scrape_duration_is_exported(root: Path) -> None:
    samples, _ = scrape(ProcStatusCollector(root=root))
    duration = value(samples, "procstatus_exporter_scrape_duration_seconds")
    assert duration is not None
    assert 0 < duration < 60


def test_a_root_that_is_not_a_procfs_fails_the_scrape(tmp_path: Path) -> None:
    collector = ProcStatusCollector(root=tmp_path / "missing")
    with pytest.raises(ProcfsNotFoundError):
        list(collector.collect())


def test_registering_does_not_scan(tmp_path: Path) -> None:
    # describe() gives the families without samples, so register() reads nothing:
    # a root that does not exist yet is no problem until the first scrape.
    registry = CollectorRegistry()
    registry.register(ProcStatusCollector(root=tmp_path / "missing", per_process=True))
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        registry.register(ProcStatusCollector(root=tmp_path / "missing"))


# ---- the peak-per-interval mode -------------------------------------------------------------


def test_interval_mode_resets_each_peak_after_reading_it(root: Path) -> None:
    for pid in (100, 101, 102, 200):
        (root / str(pid) / "clear_refs").write_bytes(b"")
    samples, helps = scrape(ProcStatusCollector(root=root, reset_peaks=True, per_process=True))
    interval = "procstatus_group_max_resident_memory_interval_peak_bytes"
    assert value(samples, interval, name="worker") == 9 * MiB
    assert (
        value(
            samples, "procstatus_process_resident_memory_interval_peak_bytes", pid="200", name="db"
        )
        == 40 * MiB
    )
    # The lifetime peak is not exported under its usual name in this mode.
    assert not [name for name, _ in samples if name.endswith("_resident_memory_peak_bytes")]
    assert "every other reader" in helps[interval]
    for pid in (100, 101, 102, 200):
        assert (root / str(pid) / "clear_refs").read_bytes() == b"5"


def test_interval_mode_skips_a_process_whose_peak_may_not_be_reset(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for pid in (100, 101, 102, 200):
        (root / str(pid) / "clear_refs").write_bytes(b"")
    deny(monkeypatch, f"{root}/101/clear_refs")
    samples, _ = scrape(ProcStatusCollector(root=root, reset_peaks=True))
    # 101 (the 9 MiB peak) is left out: its VmHWM is not a peak of this interval.
    interval = "procstatus_group_max_resident_memory_interval_peak_bytes"
    assert value(samples, interval, name="worker") == 7 * MiB
    assert value(samples, "procstatus_exporter_skipped_processes_total", reason="denied") == 1


@pytest.mark.parametrize("kind", ["fifo", "directory", "missing"])
def test_interval_mode_skips_a_process_whose_clear_refs_is_not_a_file(
    root: Path, kind: str
) -> None:
    # Under a fake root anything may stand where clear_refs should: the process
    # is counted as unreadable, and the scrape goes on.
    for pid in (100, 102, 200):
        (root / str(pid) / "clear_refs").write_bytes(b"")
    if kind == "fifo":
        os.mkfifo(root / "101" / "clear_refs")
    elif kind == "directory":
        (root / "101" / "clear_refs").mkdir()
    collector = ProcStatusCollector(root=root, reset_peaks=True)
    samples, _ = scrape(collector)
    interval = "procstatus_group_max_resident_memory_interval_peak_bytes"
    assert value(samples, interval, name="worker") == 7 * MiB
    assert value(samples, "procstatus_group_processes", name="worker") == 2
    skipped = "procstatus_exporter_skipped_processes_total"
    assert value(samples, skipped, reason="unreadable") == 1
    assert value(samples, skipped, reason="denied") == 0


@requires_proc
@pytest.mark.live
def test_interval_mode_on_a_live_process() -> None:
    name = unique_name("psreset")
    with spawn_peaked(name, 32 * MiB, reset=True) as child:
        collector = ProcStatusCollector(pids=[child.pid], reset_peaks=True)
        first, _ = scrape(collector)
        second, _ = scrape(collector)
        after = kb_field(raw_status(child.pid), b"VmHWM")
    interval = "procstatus_group_max_resident_memory_interval_peak_bytes"
    # The first scrape sees the peak since start; the reset then brought VmHWM
    # down to VmRSS, which is what the idle child's second interval peaked at.
    assert value(first, interval, name=name) == child.peak_rss
    assert value(second, interval, name=name) == after
    assert after < child.peak_rss - 16 * MiB  # the freed 32 MiB are out of the peak


# ---- PSS from smaps_rollup (opt-in) -----------------------------------------------------------


def rollup_text(pss_kb: int, private_kb: int, rss_kb: int = 99_999) -> bytes:
    return (
        f"Rss: {rss_kb} kB\nPss: {pss_kb} kB\nPrivate_Clean: 0 kB\nPrivate_Dirty: {private_kb} kB\n"
    ).encode()


@pytest.fixture
def rolled(root: Path) -> Path:
    """The fixture tree with a smaps_rollup for each user process (PSS 1, 2, 3 and 40 MiB)."""
    for pid, pss_kb, private_kb in ((100, 1024, 512), (101, 2048, 256), (102, 3072, 1024)):
        (root / str(pid) / "smaps_rollup").write_bytes(rollup_text(pss_kb, private_kb))
    (root / "200" / "smaps_rollup").write_bytes(rollup_text(40960, 40960))
    return root


def test_pss_mode_exports_group_sums_of_pss_and_uss(rolled: Path) -> None:
    samples, helps = scrape(ProcStatusCollector(root=rolled, pss=True))
    assert value(samples, "procstatus_group_sum_proportional_memory_bytes", name="worker") == (
        6 * MiB
    )
    assert value(samples, "procstatus_group_max_proportional_memory_bytes", name="worker") == (
        3 * MiB
    )
    assert value(samples, "procstatus_group_sum_unique_memory_bytes", name="worker") == (
        1792 * 1024
    )
    assert value(samples, "procstatus_group_rollup_processes", name="worker") == 3
    assert value(samples, "procstatus_group_sum_proportional_memory_bytes", name="db") == 40 * MiB
    sum_help = helps["procstatus_group_sum_proportional_memory_bytes"]
    assert "counts every shared page once" in sum_help
    assert "from the Pss line of /proc/PID/smaps_rollup" in sum_help
    assert not [name for name, _ in samples if name.startswith("procstatus_process_")]


def test_pss_mode_per_process(rolled: Path) -> None:
    samples, _ = scrape(ProcStatusCollector(root=rolled, pss=True, per_process=True))
    pss = "procstatus_process_proportional_memory_bytes"
    assert value(samples, pss, pid="101", name="worker") == 2 * MiB
    assert value(samples, "procstatus_process_unique_memory_bytes", pid="200", name="db") == (
        40 * MiB
    )


def test_no_pss_series_unless_asked(rolled: Path) -> None:
    _, helps = scrape(ProcStatusCollector(root=rolled, per_process=True))
    assert not [name for name in helps if "proportional" in name or "rollup" in name]


def test_pss_max_rss_skips_larger_processes_and_counts_them(rolled: Path) -> None:
    # db has 30 MiB of RSS, the workers 5 MiB at most.
    collector = ProcStatusCollector(root=rolled, pss=True, pss_max_rss=10 * MiB)
    samples, _ = scrape(collector)
    assert value(samples, "procstatus_group_rollup_processes", name="worker") == 3
    assert value(samples, "procstatus_group_rollup_processes", name="db") is None
    assert value(samples, "procstatus_group_sum_proportional_memory_bytes", name="db") is None
    # The status metrics of db are there as ever.
    assert value(samples, "procstatus_group_processes", name="db") == 1
    skipped = "procstatus_exporter_skipped_rollups_total"
    assert value(samples, skipped, reason="over_max_rss") == 1
    samples, _ = scrape(collector)
    assert value(samples, skipped, reason="over_max_rss") == 2


def test_rollups_that_cannot_be_read_are_counted_by_reason(
    rolled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (rolled / "100" / "smaps_rollup").write_bytes(b"Rss: lots\n")
    (rolled / "102" / "smaps_rollup").unlink()
    os.mkfifo(rolled / "102" / "smaps_rollup")
    deny(monkeypatch, f"{rolled}/200/smaps_rollup")
    real_open = os.open

    def vanishing(path: str, flags: int, mode: int = 0o777) -> int:
        if path == f"{rolled}/101/smaps_rollup":  # exits after its status was read
            for entry in (rolled / "101").iterdir():
                entry.unlink()
            (rolled / "101").rmdir()
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", vanishing)
    samples, _ = scrape(ProcStatusCollector(root=rolled, pss=True))
    skipped = "procstatus_exporter_skipped_rollups_total"
    counts = {reason: value(samples, skipped, reason=reason) for reason in ROLLUP_SKIP_REASONS}
    assert counts == {
        "gone": 1,
        "denied": 1,
        "unparsable": 1,
        "unreadable": 1,
        "over_max_rss": 0,
    }
    assert names_of(samples, "procstatus_group_rollup_processes") == set()
    assert names_of(samples, "procstatus_group_processes") == {"worker", "db"}


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"pss_max_rss": MiB}, ValueError, "pss_max_rss needs pss=True"),
        ({"pss": True, "pss_max_rss": "10"}, TypeError, "pss_max_rss must be an int"),
        ({"pss": True, "pss_max_rss": True}, TypeError, "pss_max_rss must be an int"),
        ({"pss": True, "pss_max_rss": -1}, ValueError, "pss_max_rss must not be negative"),
    ],
    ids=["without-pss", "str", "bool", "negative"],
)
def test_bad_pss_arguments(
    options: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}"):
        ProcStatusCollector(**options)  # type: ignore[arg-type]


def test_pss_names_follow_the_conventions(rolled: Path) -> None:
    helps = every_family(rolled, per_process=True, pss=True)
    for name, documentation in helps.items():
        if "proportional" in name or "unique" in name:
            assert name.endswith("_memory_bytes"), name
            assert "/proc/PID/smaps_rollup" in documentation, name


@requires_proc
@pytest.mark.live
def test_pss_mode_on_a_live_process() -> None:
    name = unique_name("pspss")
    with spawn_peaked(name, 8 * MiB) as child:
        samples, _ = scrape(ProcStatusCollector(pids=[child.pid], pss=True, per_process=True))
        rollup = read_rollup(child.pid)
    assert rollup is not None
    assert rollup.pss is not None
    exported = value(
        samples, "procstatus_process_proportional_memory_bytes", pid=str(child.pid), name=name
    )
    assert exported is not None
    # Read a moment apart from an idle process: the same within a few pages.
    assert abs(exported - rollup.pss) <= 64 * 1024


# ---- names and help texts -------------------------------------------------------------------


def every_family(
    root: Path, *, per_process: bool = False, reset_peaks: bool = False, pss: bool = False
) -> dict[str, str]:
    """The help text of every family, by name (as the text parser names them)."""
    collector = ProcStatusCollector(
        root=root, per_process=per_process, reset_peaks=reset_peaks, pss=pss
    )
    _, helps = scrape(collector)
    return helps


def test_names_follow_the_prometheus_conventions(root: Path) -> None:
    helps = every_family(root, per_process=True)
    counters = {"procstatus_group_context_switches", "procstatus_process_context_switches"}
    counters |= {"procstatus_exporter_skipped_processes"}
    for name in helps:
        assert re.fullmatch(r"procstatus_[a-z_]+", name), name
        assert not name.startswith("procstatus_process_") or "_group_" not in name
        if "memory" in name or "swap" in name:
            assert name.endswith("_bytes"), name
    text = generate_latest(_registry(root)).decode()
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE))
    assert {name for name, kind in types.items() if kind == "counter"} == {
        f"{name}_total" for name in counters
    }
    assert set(types.values()) == {"gauge", "counter"}


def _registry(root: Path) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(ProcStatusCollector(root=root, per_process=True))
    return registry


def test_the_peak_rss_metric_is_named_as_promised(root: Path) -> None:
    helps = every_family(root, per_process=True)
    peaks = [name for name in helps if "resident" in name and "peak" in name]
    assert "procstatus_group_max_resident_memory_peak_bytes" in peaks
    assert "procstatus_process_resident_memory_peak_bytes" in peaks
    assert all(name.endswith("_bytes") for name in peaks)


def test_every_help_text_names_its_status_line(root: Path) -> None:
    helps = every_family(root, per_process=True)
    for spec in METRICS:
        for name, documentation in helps.items():
            if name.endswith(spec.stem) and name.startswith(
                ("procstatus_group", "procstatus_process")
            ):
                assert f"from the {spec.line} line of /proc/PID/status" in documentation, name
    assert "voluntary_ctxt_switches" in helps["procstatus_group_context_switches"]


def test_every_sum_of_memory_says_it_overcounts(root: Path) -> None:
    helps = every_family(root)
    sums = [name for name in helps if name.startswith("procstatus_group_sum_resident")]
    assert sums
    for name in sums:
        assert "counts pages they share" in helps[name]


def test_the_docs_list_every_metric(root: Path) -> None:
    documented = set(re.findall(r"`(procstatus_[a-z_]+)`", DOCS.read_text(encoding="utf-8")))
    for reset_peaks, pss in ((False, False), (True, False), (False, True)):
        helps = every_family(root, per_process=True, reset_peaks=reset_peaks, pss=pss)
        text_names = set()
        for name in helps:
            is_counter = name.endswith(
                ("_context_switches", "_skipped_processes", "_skipped_rollups")
            )
            text_names.add(f"{name}_total" if is_counter else name)
        assert text_names <= documented, sorted(text_names - documented)


# ---- the exporter's own peak -----------------------------------------------------------------


def test_register_self_peak_exports_this_process_vmhwm() -> None:
    registry = CollectorRegistry()
    collector = register_self_peak(registry)
    before = kb_field(raw_status(os.getpid()), b"VmHWM")
    value = registry.get_sample_value("process_resident_memory_peak_bytes")
    after = kb_field(raw_status(os.getpid()), b"VmHWM")
    assert value is not None
    assert before <= value <= after
    registry.unregister(collector)
    assert registry.get_sample_value("process_resident_memory_peak_bytes") is None


def test_register_self_peak_sits_next_to_the_default_process_metrics() -> None:
    from prometheus_client import ProcessCollector

    registry = CollectorRegistry()
    ProcessCollector(namespace="app", registry=registry)
    register_self_peak(registry, namespace="app")
    assert registry.get_sample_value("app_process_resident_memory_bytes") is not None
    assert registry.get_sample_value("app_process_resident_memory_peak_bytes") is not None
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        register_self_peak(registry, namespace="app")


# ---- the core never imports prometheus_client --------------------------------------------------


@pytest.mark.parametrize(
    "module", ["procstatus", "procstatus._cli.main"], ids=["library", "command-line"]
)
def test_importing_procstatus_does_not_import_prometheus_client(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'prometheus_client')\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout == "[]\n"


def test_importing_procstatus_prometheus_does() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, procstatus.prometheus; print('prometheus_client' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout == "True\n"


# ---- properties: nothing about one process fails a scrape ------------------------------------


@FEW
@given(
    texts=st.lists(
        st.one_of(
            kernel_statuses().map(lambda g: g.text),
            mutated(kernel_statuses().map(lambda g: g.text)),
        ),
        min_size=1,
        max_size=6,
    ),
    patterns=st.lists(st.text(max_size=8), max_size=3),
    per_process=st.booleans(),
    reset_peaks=st.booleans(),
    clear_refs=st.lists(st.sampled_from(["file", "fifo", "directory", "missing"]), max_size=6),
    pss=st.one_of(st.none(), st.integers(0, 1 << 30)).map(lambda limit: (True, limit))
    | st.just((False, None)),
    rollups=st.lists(
        st.one_of(st.none(), st.just("fifo"), st.binary(max_size=80), mutated(ROLLUP_DAMAGE_BASES)),
        max_size=6,
    ),
)
def test_any_status_texts_give_a_scrape(
    texts: list[bytes],
    patterns: list[str],
    per_process: bool,
    reset_peaks: bool,
    clear_refs: list[str],
    pss: tuple[bool, Optional[int]],
    rollups: list[Union[bytes, str, None]],
) -> None:
    with tempfile.TemporaryDirectory() as where:
        for pid, text in enumerate(texts, start=10):
            (Path(where) / str(pid)).mkdir()
            (Path(where) / str(pid) / "status").write_bytes(text)
        for pid, kind in enumerate(clear_refs, start=10):
            path = Path(where) / str(pid) / "clear_refs"
            if not path.parent.exists() or kind == "missing":
                continue
            if kind == "file":
                path.write_bytes(b"")
            elif kind == "fifo":
                os.mkfifo(path)
            else:
                path.mkdir()
        for pid, rollup in enumerate(rollups, start=10):
            path = Path(where) / str(pid) / "smaps_rollup"
            if not path.parent.exists() or rollup is None:
                continue
            if rollup == "fifo":
                os.mkfifo(path)
            elif isinstance(rollup, bytes):
                path.write_bytes(rollup)
        collector = ProcStatusCollector(
            root=where,
            names=patterns,
            per_process=per_process,
            reset_peaks=reset_peaks,
            pss=pss[0],
            pss_max_rss=pss[1],
        )
        samples, _ = scrape(collector)
    exported = sum(v for (name, _), v in samples.items() if name == "procstatus_group_processes")
    skipped = sum(
        v
        for (name, _), v in samples.items()
        if name == "procstatus_exporter_skipped_processes_total"
    )
    assert exported + skipped <= len(texts)


@FEW
@given(
    names=st.lists(st.text(max_size=8), max_size=3),
    users=st.lists(st.one_of(st.integers(), st.text(max_size=8)), max_size=3),
    pids=st.lists(st.integers(), max_size=3),
)
def test_bad_selections_raise_only_type_or_value_errors(
    names: list[str], users: list[object], pids: list[int]
) -> None:
    with contextlib.suppress(TypeError, ValueError):
        ProcStatusCollector(names=names, users=users, pids=pids)  # type: ignore[arg-type]
