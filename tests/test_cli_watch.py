"""``procstatus watch PID`` (src/procstatus/_cli/watch.py): RSS and peak RSS over time.

The schedule is checked against a fake clock; the live tests watch real
children and stop the command the ways a person does (Ctrl-C, closing its
output, the process exiting).
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Callable

import attrs
import pytest

import procstatus._run
from helpers_cli import ENV, PROCSTATUS, procstatus_cmd, read_lines, sigint_not_ignored
from helpers_live import requires_proc, spawn_renamed
from procstatus._cli import main
from procstatus._cli import watch as cli_watch
from procstatus._cli.run import format_run_result
from procstatus._cli.watch import CSV_COLUMNS, sparkline
from procstatus._errors import PeakTraceError, ProcessNotFoundError
from procstatus._model import Memory
from procstatus._parse import parse_memory


def test_watch_refuses_a_process_without_memory(fake_root: Path) -> None:
    result = procstatus_cmd("watch", "2", "--root", str(fake_root))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "procstatus: process 2 has no memory to watch (a kernel thread or a zombie)\n"
    )


def test_watch_interrupted_before_the_first_sample_exits_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No sample, nothing to summarize: the status of an interrupted command,
    # not an internal error from min() of no values.
    def interrupted(pid: int, root: str) -> Memory:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_watch, "read_memory", interrupted)
    assert main(["watch", "1"]) == 130
    assert capsys.readouterr() == ("", "")


class FakeTime:
    """A monotonic clock that only moves when reading or sleeping, by chosen amounts."""

    def __init__(self, read_delays: dict[int, float], sleep_delays: dict[int, float]) -> None:
        self.now = 0.0
        self.reads = 0
        self.sleeps: list[float] = []
        self.read_delays = read_delays
        self.sleep_delays = sleep_delays

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_700_000_000.0 + self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds + self.sleep_delays.get(len(self.sleeps), 0.0)

    def read_memory(self, pid: int, root: str) -> Memory | None:
        self.reads += 1
        self.now += self.read_delays.get(self.reads, 0.0)
        return parse_memory("VmHWM:\t8 kB\nVmRSS:\t4 kB\n")


@pytest.mark.parametrize(
    ("read_delays", "sleep_delays", "times", "sleeps"),
    [
        ({}, {}, [0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0]),
        # Read 2 starts at 1 and ends at 6.5: samples 2 to 6 are missed, not
        # taken back to back; the next one is at 7, on the same schedule.
        ({2: 5.5}, {}, [0.0, 6.5, 7.0, 8.0], [1.0, 0.5, 1.0]),
        # Stopped (Ctrl-Z) for 100.25 s during the first sleep.
        ({}, {1: 100.25}, [0.0, 101.25, 102.0, 103.0], [1.0, 0.75, 1.0]),
    ],
    ids=["on-time", "slow-read", "stopped"],
)
def test_watch_schedule_skips_missed_samples(
    monkeypatch: pytest.MonkeyPatch,
    read_delays: dict[int, float],
    sleep_delays: dict[int, float],
    times: list[float],
    sleeps: list[float],
) -> None:
    clock = FakeTime(read_delays, sleep_delays)
    monkeypatch.setattr(cli_watch, "time", clock)
    monkeypatch.setattr(cli_watch, "read_memory", clock.read_memory)
    samples = list(itertools.islice(cli_watch._samples([1], "/proc", 1.0), 4))
    assert samples == [(time, 1_700_000_000.0 + time, {1: (4096, 8192)}) for time in times]
    assert clock.sleeps == sleeps


def test_sparkline() -> None:
    assert sparkline([]) == ""
    assert sparkline([5, 5, 5]) == "▁▁▁"
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([10, 20], "_#") == "_#"


WATCH_LINE = r"\d\d:\d\d:\d\d\.\d\d\d  RSS +[0-9.]+ [KMG]i?B  peak +[0-9.]+ [KMG]i?B  [▁▂▃▄▅▆▇█]+"


WATCH_SUMMARY = (
    r"process {pid}: {count} samples? in [0-9.]+ s; RSS min [0-9.]+ [KMG]iB,"
    r" max [0-9.]+ [KMG]iB; peak RSS [0-9.]+ [KMG]iB"
)


@pytest.mark.live
@requires_proc
def test_live_watch_count(child: int) -> None:
    result = procstatus_cmd("watch", str(child), "--count", "3", "--interval", "0.05")
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    for line in lines[:3]:
        assert re.fullmatch(WATCH_LINE, line)
    assert re.fullmatch(WATCH_SUMMARY.format(pid=child, count=3), lines[3])


#: The bars ``watch`` draws when the output cannot encode the Unicode blocks.
ASCII_RAMP = "_.-:=+*#"


@pytest.mark.live
@requires_proc
def test_live_watch_ascii_output(child: int) -> None:
    env = {**ENV, "PYTHONIOENCODING": "ascii"}
    result = procstatus_cmd("watch", str(child), "-c", "2", "-i", "0.01", env=env)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    for line in lines[:2]:
        line.encode("ascii")  # raises if anything else slipped through
        bars = line.rsplit("  ", 1)[1]
        assert bars, line
        assert set(bars) <= set(ASCII_RAMP), line
    # The child sleeps, so both samples are the same RSS: the lowest bar twice.
    assert lines[1].endswith("  __")


@contextlib.contextmanager
def running_watch(pid: int) -> Iterator[subprocess.Popen[str]]:
    """``procstatus watch PID`` sampling every 10 ms, from its first line on.

    Whatever the block does, the command is killed (if still running) and
    waited for when it ends, its pipes closed.
    """
    with sigint_not_ignored():
        watch = subprocess.Popen(
            [sys.executable, "-m", "procstatus", "watch", str(pid), "-i", "0.01"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            encoding="utf-8",
            env=ENV,
        )
    try:
        assert watch.stdout is not None
        assert re.fullmatch(WATCH_LINE, watch.stdout.readline().rstrip("\n"))
        yield watch
    finally:
        if watch.poll() is None:
            watch.kill()
        for stream in (watch.stdout, watch.stderr):
            if stream is not None:
                stream.close()
        watch.wait()


@pytest.mark.live
@requires_proc
def test_live_watch_ends_when_the_process_exits() -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        with running_watch(sleeper.pid) as watch:
            sleeper.kill()
            sleeper.wait()
            stdout, stderr = watch.communicate(timeout=30)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert (watch.returncode, stderr) == (0, "")
    lines = stdout.splitlines()
    assert lines[-2] == f"process {sleeper.pid} exited"
    assert re.fullmatch(WATCH_SUMMARY.format(pid=sleeper.pid, count=r"\d+"), lines[-1])


@pytest.mark.live
@requires_proc
def test_live_watch_ends_cleanly_on_ctrl_c(child: int) -> None:
    with running_watch(child) as watch:
        watch.send_signal(signal.SIGINT)
        stdout, stderr = watch.communicate(timeout=30)
    assert (watch.returncode, stderr) == (0, "")
    assert re.fullmatch(WATCH_SUMMARY.format(pid=child, count=r"\d+"), stdout.splitlines()[-1])


@pytest.mark.live
@requires_proc
def test_live_closed_output_is_quiet(child: int) -> None:
    with running_watch(child) as watch:
        assert watch.stdout is not None
        watch.stdout.close()  # like `| head -1` exiting
        assert watch.wait(timeout=30) == 141
        assert watch.stderr is not None
        assert watch.stderr.read() == ""


# ---- several PIDs, --elapsed, --json, --csv: scripted memory and clock -------------------


class Scripted:
    """read_memory for processes whose (VmRSS kB, VmHWM kB) per sample are scripted;
    None in a script is a process gone."""

    def __init__(self, script: dict[int, list[tuple[int, int] | None]]) -> None:
        self.script = {pid: list(values) for pid, values in script.items()}

    def read_memory(self, pid: int, root: str) -> Memory | None:
        values = self.script[pid].pop(0)
        if values is None:
            raise ProcessNotFoundError(pid)
        rss, hwm = values
        return parse_memory(f"VmHWM:\t{hwm} kB\nVmRSS:\t{rss} kB\n")


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Processes 10 (named p10) and 11 (p11, gone at the third sample), sampled every second
    of a fake clock; the proc root that names them."""
    clock = FakeTime({}, {})
    memory = Scripted(
        {10: [(100, 200), (150, 200), (120, 250)], 11: [(1000, 1000), (2048, 2048), None]}
    )
    monkeypatch.setattr(cli_watch, "time", clock)
    monkeypatch.setattr(cli_watch, "read_memory", memory.read_memory)
    root = tmp_path / "proc"
    for pid in (10, 11):
        (root / str(pid)).mkdir(parents=True)
        (root / str(pid) / "status").write_text(f"Name:\tp{pid}\nPid:\t{pid}\n")
    return root


def test_watch_several_pids_one_column_group_each(
    scripted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watch", "10", "11", "-c", "3", "--elapsed", "--root", str(scripted)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    group = " " * 43
    assert captured.out.splitlines() == [
        "elapsed       pid 10 p10" + group[len("pid 10 p10") :] + "  pid 11 p11",
        "       0.000  RSS  100.0 KiB  peak  200.0 KiB  ▁           "
        "RSS 1000.0 KiB  peak 1000.0 KiB  ▁",
        "       1.000  RSS  150.0 KiB  peak  200.0 KiB  ▁█          "
        "RSS    2.0 MiB  peak    2.0 MiB  ▁█",
        "       2.000  RSS  120.0 KiB  peak  250.0 KiB  ▁█▃         exited",
        "process 11 exited",
        "process 10: 3 samples in 2.0 s; RSS min 100.0 KiB, max 150.0 KiB; peak RSS 250.0 KiB",
        "process 11: 2 samples in 1.0 s; RSS min 1000.0 KiB, max 2.0 MiB; peak RSS 2.0 MiB",
    ]  # fmt: skip


ISO_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"


def test_watch_json_is_one_object_per_sample(
    scripted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watch", "10", "11", "-c", "3", "--json", "--root", str(scripted)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    records = [json.loads(line) for line in captured.out.splitlines()]
    for record in records:
        assert list(record) == ["time", "elapsed_s", "processes", "tree_rss"]
        assert re.fullmatch(ISO_TIME, record["time"])
        assert record["tree_rss"] is None  # only with -- CMD
    assert [record["elapsed_s"] for record in records] == [0.0, 1.0, 2.0]
    assert [record["processes"] for record in records] == [
        [
            {"pid": 10, "rss": 102400, "peak_rss": 204800},
            {"pid": 11, "rss": 1024000, "peak_rss": 1024000},
        ],
        [
            {"pid": 10, "rss": 153600, "peak_rss": 204800},
            {"pid": 11, "rss": 2097152, "peak_rss": 2097152},
        ],
        [{"pid": 10, "rss": 122880, "peak_rss": 256000}],  # 11 is gone: no entry
    ]  # fmt: skip


def test_watch_csv_is_one_row_per_process_per_sample(
    scripted: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watch", "10", "11", "-c", "3", "--csv", "--root", str(scripted)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    rows = list(csv.reader(io.StringIO(captured.out)))
    assert (
        tuple(rows[0]) == CSV_COLUMNS == ("time", "elapsed_s", "pid", "rss", "peak_rss", "tree_rss")
    )
    assert all(re.fullmatch(ISO_TIME, row[0]) for row in rows[1:])
    assert [row[1:] for row in rows[1:]] == [
        ["0.000", "10", "102400", "204800", ""],
        ["0.000", "11", "1024000", "1024000", ""],
        ["1.000", "10", "153600", "204800", ""],
        ["1.000", "11", "2097152", "2097152", ""],
        ["2.000", "10", "122880", "256000", ""],
    ]


def test_watch_output_file(
    scripted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "samples.jsonl"
    assert (
        main(["watch", "10", "-c", "2", "--json", "-o", str(output), "--root", str(scripted)]) == 0
    )
    assert capsys.readouterr() == ("", "")
    assert [json.loads(line)["elapsed_s"] for line in output.read_text().splitlines()] == [0.0, 1.0]


def test_watch_output_file_that_cannot_be_written(tmp_path: Path) -> None:
    result = procstatus_cmd("watch", "1", "-o", str(tmp_path / "no-such-dir" / "out.csv"))
    assert (result.returncode, result.stdout) == (1, "")
    where = tmp_path / "no-such-dir" / "out.csv"
    assert result.stderr == f"procstatus: cannot write {where}: No such file or directory\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1", "--", "true"], "give PIDs or a command after --, not both"),
        (["--"], "give the command to run after --, e.g. procstatus watch -- make -j4"),
        (
            ["--count", "2", "--", "true"],
            "--count is for PIDs: a command is watched until it exits",
        ),
        (
            ["--root", "/proc", "1", "--json", "--csv"],
            "argument --csv: not allowed with argument --json",
        ),
        (
            ["--root", "/x", "--", "true"],
            "--root is for PIDs: a command runs on this machine's /proc",
        ),
        (["sh"], "argument PID: invalid PID: 'sh' (a process id is a number)"),
    ],
    ids=["both", "no-command", "count", "json-and-csv", "root", "command-without-dashes"],
)
def test_watch_usage_errors(args: list[str], message: str) -> None:
    result = procstatus_cmd("watch", *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("usage: procstatus watch [options] PID [PID ...]\n")
    assert result.stderr.splitlines()[-1] == f"procstatus watch: error: {message}"


# ---- live: machine-readable output read while the process runs ---------------------------

#: A child that grows by 2 MiB (pages touched) every 50 ms for 2 s, then waits for stdin.
GROWER = """
import sys, time
sys.stdout.write("ready\\n"); sys.stdout.flush()
blocks = []
for _ in range(40):
    block = bytearray(2 << 20)
    block[::4096] = b"x" * len(block[::4096])
    blocks.append(block)
    time.sleep(0.05)
sys.stdin.read()
"""


@contextlib.contextmanager
def growing_child() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(
        [sys.executable, "-c", GROWER], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"
        yield child
    finally:
        child.kill()
        child.wait()
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()


@contextlib.contextmanager
def watching(*args: str) -> Iterator[subprocess.Popen[bytes]]:
    """``procstatus watch ARGS`` with its output in a pipe; stopped with Ctrl-C at the end."""
    with sigint_not_ignored():
        watch = subprocess.Popen(
            [*PROCSTATUS, "watch", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV
        )
    try:
        yield watch
    finally:
        if watch.poll() is None:
            watch.send_signal(signal.SIGINT)
            try:
                watch.wait(timeout=30)
            except subprocess.TimeoutExpired:
                watch.kill()
                watch.wait()
        for stream in (watch.stdout, watch.stderr):
            if stream is not None:
                stream.close()


@pytest.mark.live
@requires_proc
def test_live_watch_json_lines_come_while_the_process_runs() -> None:
    with growing_child() as child, watching(str(child.pid), "--json", "-i", "0.05") as watch:
        assert watch.stdout is not None
        lines = read_lines(watch.stdout.fileno(), 4)
        assert child.poll() is None  # still running: each line came as it was sampled
        records = [json.loads(line) for line in lines]
        elapsed = [record["elapsed_s"] for record in records]
        assert elapsed == sorted(elapsed)
        assert elapsed[0] == 0.0
        for record in records:
            [process] = record["processes"]
            assert process["pid"] == child.pid
            assert 0 < process["rss"] <= process["peak_rss"]
        watch.send_signal(signal.SIGINT)
        assert watch.wait(timeout=30) == 0
        assert watch.stderr is not None
        assert watch.stderr.read() == b""


@pytest.mark.live
@requires_proc
def test_live_watch_csv_rows_come_while_the_process_runs() -> None:
    with growing_child() as child, watching(str(child.pid), "--csv", "-i", "0.05") as watch:
        assert watch.stdout is not None
        header, *rows = read_lines(watch.stdout.fileno(), 4)
        assert child.poll() is None
        assert header == "time,elapsed_s,pid,rss,peak_rss,tree_rss"
        for row in csv.reader(rows):
            assert re.fullmatch(ISO_TIME, row[0])
            assert row[2] == str(child.pid)
            assert 0 < int(row[3]) <= int(row[4])
            assert row[5] == ""


@pytest.mark.live
@requires_proc
def test_live_watch_several_pids_named_as_the_kernel_escapes_them() -> None:
    # A name with an escape sequence is escaped; a name with a backslash and an
    # "n" shows the kernel's "\\n", so it cannot pass for a name with a newline.
    with spawn_renamed(b"ps-watch\x1b[2J") as one, spawn_renamed(b"ps-watch\\n2") as two:
        result = procstatus_cmd("watch", str(one.pid), str(two.pid), "-c", "2", "-i", "0.05")
    assert (result.returncode, result.stderr) == (0, "")
    header, *samples, first_summary, second_summary = result.stdout.splitlines()
    assert re.fullmatch(
        rf"time {{10}}pid {one.pid} ps-watch\\x1b\[2J +pid {two.pid} ps-watch\\\\n2", header
    ), header
    group = r"RSS +[0-9.]+ [KMG]i?B  peak +[0-9.]+ [KMG]i?B  [▁▂▃▄▅▆▇█]+"
    assert len(samples) == 2
    for line in samples:
        assert re.fullmatch(rf"\d\d:\d\d:\d\d\.\d\d\d  {group} +{group}", line), line
    assert re.fullmatch(WATCH_SUMMARY.format(pid=one.pid, count=2), first_summary)
    assert re.fullmatch(WATCH_SUMMARY.format(pid=two.pid, count=2), second_summary)


# ---- watch -- CMD: the run engine's samples, written as they come ------------------------
#
# The engine (procstatus.run_command with on_sample, and its TreeSample, docs/peak.md) is
# replaced here by one that replays samples from another thread, as the tracer thread
# calls back; the live tests below run the real one.

MiB = 1 << 20


@attrs.frozen
class FakeTreeSample:
    elapsed_s: float
    rss: Mapping[int, int]
    pss: Mapping[int, int] | None = None


@attrs.frozen
class FakeProcess:
    pid: int
    ppid: int
    argv: tuple[str, ...]
    peak_rss: int | None
    exit_code: int | None
    signal: int | None
    start_s: float
    end_s: float | None
    running: bool = False


@attrs.frozen
class FakeRunResult:
    argv: tuple[str, ...]
    pid: int
    peak_rss: int
    peak_pid: int
    wall_s: float
    exit_code: int
    signal: int | None
    peak_exact: bool
    tree_peak_rss_bound: int
    tree_peak_rss_sampled: int
    tree_peak_pss_sampled: int | None
    processes: tuple[FakeProcess, ...]
    samples: tuple[FakeTreeSample, ...]
    interval_s: float = 1.0  # RunResult.interval_s: the report says how often it sampled

    def to_json_dict(self) -> dict[str, object]:
        return {"argv": list(self.argv), "exit_code": self.exit_code, "peak_rss": self.peak_rss}


#: sh (pid 100) forks 101 at 0.01 s, which grows and ends at 2.2 s; sh exits with 3.
TREE_SAMPLES = (
    FakeTreeSample(0.0, {100: 1 * MiB}),
    FakeTreeSample(0.01, {100: 1 * MiB, 101: 1 * MiB}),
    FakeTreeSample(0.5, {100: 1 * MiB, 101: 10 * MiB}),
    FakeTreeSample(1.0, {100: 1 * MiB, 101: 20 * MiB}),
    FakeTreeSample(1.7, {100: 1 * MiB, 101: 30 * MiB}),
    FakeTreeSample(2.2, {100: 1 * MiB}),
)
TREE_RESULT = FakeRunResult(
    argv=("sh", "-c", "grow; exit 3"),
    pid=100,
    peak_rss=32 * MiB,
    peak_pid=101,
    wall_s=2.25,
    exit_code=3,
    signal=None,
    peak_exact=True,
    tree_peak_rss_bound=34 * MiB,
    tree_peak_rss_sampled=31 * MiB,
    tree_peak_pss_sampled=None,
    processes=(
        FakeProcess(100, 1, ("sh", "-c", "grow; exit 3"), 2 * MiB, 3, None, 0.0, 2.25),
        FakeProcess(101, 100, ("grow",), 32 * MiB, 0, None, 0.01, 2.2),
    ),
    samples=TREE_SAMPLES,
)


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The fake engine in place; the list of the calls it got."""
    calls: list[dict[str, Any]] = []

    def run_command(
        argv: list[str], *, interval: float, on_sample: Callable[[FakeTreeSample], None]
    ) -> FakeRunResult:
        calls.append({"argv": argv, "interval": interval})

        def replay() -> None:
            for sample in TREE_SAMPLES:
                on_sample(sample)

        tracer = threading.Thread(target=replay)
        tracer.start()
        tracer.join()
        return TREE_RESULT

    monkeypatch.setattr(procstatus._run, "TreeSample", FakeTreeSample, raising=False)
    monkeypatch.setattr(procstatus._run, "run_command", run_command)
    return calls


def test_watch_command_text_is_one_line_per_interval_then_runs_report(
    engine: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["watch", "--elapsed", "--", "sh", "-c", "grow; exit 3"])
    captured = capsys.readouterr()
    assert (status, captured.err) == (3, "")  # the command's own status, as run
    assert engine == [{"argv": ["sh", "-c", "grow; exit 3"], "interval": 1.0}]
    # Samples at fork, exec and exit between two lines are not printed: 0.01, 0.5, 1.7.
    assert captured.out.splitlines()[:5] == [
        "tree RSS: VmRSS summed over the command's live processes (shared pages count in"
        " each); largest: the process with the most RSS",
        "elapsed         tree RSS  processes     largest  pid",
        "       0.000     1.0 MiB          1     1.0 MiB  100      ▁",
        "       1.000    21.0 MiB          2    20.0 MiB  101      ▁█",
        "       2.200     1.0 MiB          1     1.0 MiB  100      ▁█▁",
    ]
    assert captured.out.splitlines()[5:] == ["", *format_run_result(TREE_RESULT).splitlines()]  # type: ignore[arg-type]


def test_watch_command_json_has_every_sample_and_the_report_on_stderr(
    engine: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watch", "--json", "-i", "0.5", "--", "sh", "-c", "grow; exit 3"]) == 3
    captured = capsys.readouterr()
    assert engine[0]["interval"] == 0.5
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert [record["elapsed_s"] for record in records] == [0.0, 0.01, 0.5, 1.0, 1.7, 2.2]
    assert records[3]["processes"] == [
        {"pid": 100, "rss": MiB, "peak_rss": None},  # only RSS is sampled; peaks: the report
        {"pid": 101, "rss": 20 * MiB, "peak_rss": None},
    ]
    assert [record["tree_rss"] for record in records] == [
        MiB, 2 * MiB, 11 * MiB, 21 * MiB, 31 * MiB, MiB
    ]  # fmt: skip
    assert all(re.fullmatch(ISO_TIME, record["time"]) for record in records)
    assert json.loads(captured.err) == TREE_RESULT.to_json_dict()


def test_watch_command_csv(
    engine: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watch", "--csv", "--", "sh", "-c", "grow; exit 3"]) == 3
    captured = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(captured.out)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row[1:] for row in rows[1:4]] == [
        ["0.000", "100", str(MiB), "", str(MiB)],
        ["0.010", "100", str(MiB), "", str(2 * MiB)],
        ["0.010", "101", str(MiB), "", str(2 * MiB)],
    ]
    assert len(rows) == 1 + 1 + 2 + 2 + 2 + 2 + 1
    assert captured.err == format_run_result(TREE_RESULT) + "\n"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (FileNotFoundError(2, "No such file or directory", "nope"), 127, "nope: command not found"),
        (PermissionError(13, "Permission denied", "nope"), 126, "nope: Permission denied"),
        (PeakTraceError(1, "ptrace not allowed"), 125, "cannot follow nope: ptrace not allowed"),
    ],
    ids=["not-found", "not-executable", "not-traceable"],
)
def test_watch_command_that_cannot_run(
    engine: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: OSError,
    status: int,
    message: str,
) -> None:
    def failing(argv: list[str], **options: Any) -> FakeRunResult:
        raise error

    monkeypatch.setattr(procstatus._run, "run_command", failing)
    assert main(["watch", "--json", "--", "nope"]) == status
    assert capsys.readouterr() == ("", f"procstatus watch: {message}\n")


def test_watch_command_closed_output_lets_the_command_finish(
    engine: list[dict[str, Any]], tmp_path: Path
) -> None:
    # The writer thread stops at the closed pipe; the tracer is never held up, and
    # procstatus ends as a program killed by SIGPIPE would (141).
    script = (
        "import sys, os, procstatus._run as r\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "import test_cli_watch as t\n"
        "r.TreeSample = t.FakeTreeSample\n"
        "r.run_command = lambda argv, interval, on_sample: ("
        "[on_sample(s) for s in t.TREE_SAMPLES * 2000], t.TREE_RESULT)[1]\n"
        "from procstatus._cli import main\n"
        "sys.exit(main(['watch', '--json', '--', 'x']))\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        assert process.stdout.readline().startswith(b'{"time": ')
        process.stdout.close()
        assert process.wait(timeout=60) == 141
        assert process.stderr.read() == b""


# The samples wait for the writer thread in a bounded queue: the tracer never waits
# for the output, and a stalled reader costs neither the command's time nor memory.


def one_pid_samples(count: int) -> list[FakeTreeSample]:
    return [FakeTreeSample(number / 100, {100: MiB + number}) for number in range(count)]


def test_pending_samples_keep_the_newest_within_the_limit() -> None:
    pending = cli_watch._Pending(limit=20)  # a sample of one process counts 2: 10 samples
    for sample in one_pid_samples(50):
        pending.put(sample)
    assert pending.dropped == 40
    pending.close()
    kept = list(iter(pending.get, None))
    assert [sample.elapsed_s for sample in kept] == [number / 100 for number in range(40, 50)]


def test_pending_samples_always_keep_the_newest_even_when_it_alone_is_larger() -> None:
    pending = cli_watch._Pending(limit=2)
    big = FakeTreeSample(1.0, dict.fromkeys(range(10), MiB))
    pending.put(FakeTreeSample(0.0, {1: MiB}))
    pending.put(big)
    assert pending.dropped == 1
    assert pending.get() is big


def test_pending_samples_after_close_and_discard() -> None:
    pending = cli_watch._Pending(limit=100)
    pending.put(FakeTreeSample(0.0, {1: MiB}))
    pending.close(discard=True)  # the writer failed: nothing more is kept
    pending.put(FakeTreeSample(1.0, {1: MiB}))
    assert pending.get() is None


class StalledOutput(io.StringIO):
    """An output whose reader stops reading after the first line, until ``resume`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.resume = threading.Event()
        self.lines = 0

    def write(self, text: str) -> int:
        self.lines += 1
        if self.lines > 1:
            assert self.resume.wait(timeout=60)
        return super().write(text)


def test_a_stalled_reader_holds_up_neither_the_tracer_nor_memory(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    samples = one_pid_samples(5000)
    output = StalledOutput()
    traced = threading.Event()

    def run_command(
        argv: list[str], *, interval: float, on_sample: Callable[[FakeTreeSample], None]
    ) -> FakeRunResult:
        def trace() -> None:
            for sample in samples:
                on_sample(sample)
            traced.set()

        tracer = threading.Thread(target=trace)
        tracer.start()
        # Every sample is handed over while the reader is stalled.
        assert traced.wait(timeout=60)
        tracer.join()
        output.resume.set()
        return attrs.evolve(TREE_RESULT, samples=tuple(samples))

    monkeypatch.setattr(procstatus._run, "TreeSample", FakeTreeSample, raising=False)
    monkeypatch.setattr(procstatus._run, "run_command", run_command)
    monkeypatch.setattr(cli_watch, "_PENDING_LIMIT", 200)  # 100 samples of one process
    options = cli_watch.build_parser().parse_args(["--json"])

    assert cli_watch._watch_command(["grow"], options, output) == 3

    records = [json.loads(line) for line in output.getvalue().splitlines()]
    # What was written before the stall, the sample the writer held when the reader
    # stopped, then the newest that waited (100); the rest was dropped and counted.
    assert 100 <= len(records) <= 102
    assert records[-1]["elapsed_s"] == samples[-1].elapsed_s
    message, report = capsys.readouterr().err.splitlines()
    dropped = len(samples) - len(records)
    assert message == (
        f"procstatus watch: {dropped} samples were not written: the output was read more"
        " slowly than they came"
    )
    assert json.loads(report) == TREE_RESULT.to_json_dict()


#: sh forks two children, one after the other: 40 MiB then 80 MiB, touched, held 0.3 s.
FORKING = (
    'for size in 40 80; do {python} -c "import time; b = bytearray($size << 20);'
    " b[::4096] = b'x' * len(b[::4096]); time.sleep(0.3)\" & wait; done; exit 3"
)


@pytest.mark.live
@requires_proc
def test_live_watch_command_that_forks_json() -> None:
    command = ["sh", "-c", FORKING.format(python=sys.executable)]
    with watching("--json", "-i", "0.05", "--", *command) as watch:
        assert watch.stdout is not None
        assert watch.stderr is not None
        first = json.loads(read_lines(watch.stdout.fileno(), 1)[0])
        assert watch.poll() is None  # the first sample came while the command runs
        rest, stderr = watch.communicate(timeout=60)
    if watch.returncode == 125:
        pytest.skip(f"ptrace is not allowed here: {stderr.decode().strip()}")
    assert watch.returncode == 3
    records = [first, *(json.loads(line) for line in rest.decode().splitlines())]
    for record in records:
        assert record["tree_rss"] == sum(p["rss"] for p in record["processes"])
    assert max(len(record["processes"]) for record in records) >= 2  # sh and a child
    assert max(record["tree_rss"] for record in records) >= 80 * MiB
    report = json.loads(stderr.decode().splitlines()[-1])
    assert report["exit_code"] == 3
    assert len(report["processes"]) >= 3


@pytest.mark.live
@requires_proc
def test_live_watch_command_that_forks_text(tmp_path: Path) -> None:
    output = tmp_path / "watch.txt"
    result = procstatus_cmd(
        "watch",
        "-i",
        "0.1",
        "-o",
        str(output),
        "--",
        "sh",
        "-c",
        FORKING.format(python=sys.executable),
    )
    if result.returncode == 125:
        pytest.skip(f"ptrace is not allowed here: {result.stderr.strip()}")
    assert (result.returncode, result.stdout, result.stderr) == (3, "", "")
    lines = output.read_text().splitlines()
    assert lines[0].startswith("tree RSS: VmRSS summed over the command's live processes")
    assert re.fullmatch(r"time +tree RSS  processes +largest  pid", lines[1])
    assert any(line.startswith("command:") for line in lines)
