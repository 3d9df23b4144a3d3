"""``procstatus watch PID`` (src/procstatus/_cli/watch.py): RSS and peak RSS over time.

The schedule is checked against a fake clock; the live tests watch real
children and stop the command the ways a person does (Ctrl-C, closing its
output, the process exiting).
"""

from __future__ import annotations

import contextlib
import itertools
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers_cli import ENV, procstatus_cmd
from helpers_live import requires_proc
from procstatus._cli import main
from procstatus._cli import watch as cli_watch
from procstatus._cli.watch import sparkline
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
    samples = list(itertools.islice(cli_watch._samples(1, "/proc", 1.0), 4))
    assert samples == [(4096, 8192, time) for time in times]
    assert clock.sleeps == sleeps


def test_sparkline() -> None:
    assert sparkline([]) == ""
    assert sparkline([5, 5, 5]) == "▁▁▁"
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([10, 20], "_#") == "_#"


WATCH_LINE = r"\d\d:\d\d:\d\d  RSS +[0-9.]+ [KMG]i?B  peak +[0-9.]+ [KMG]i?B  [▁▂▃▄▅▆▇█]+"


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
def sigint_not_ignored() -> Iterator[None]:
    """Children started in the block get SIGINT's default action, as in a terminal.

    A shell's background job (``pytest &``) ignores SIGINT; an ignored signal
    stays ignored through exec(2), and Python then leaves it so: Ctrl-C would
    never reach the command. A handler, unlike SIG_IGN, is reset by exec.
    """
    previous = signal.getsignal(signal.SIGINT)
    if previous != signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


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
