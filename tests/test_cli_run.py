"""``procstatus run -- CMD`` (src/procstatus/_cli/run.py): arguments and the report.

The measuring itself (``run_command``, src/procstatus/_run.py) is tested in
tests/test_run.py; here, what the command prints and the status it exits with.
"""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
from typing import Callable

import pytest

import procstatus
from helpers_cli import PROCSTATUS, procstatus_cmd, with_closed
from helpers_live import requires_proc
from procstatus import _run
from procstatus._cli.run import format_run_result, run_cli


@pytest.mark.live
@requires_proc
def test_live_run_passes_the_exit_status_through() -> None:
    result = procstatus_cmd("run", "--json", "--", sys.executable, "-c", "raise SystemExit(3)")
    if result.returncode == 125:
        pytest.skip(f"ptrace is not allowed here: {result.stderr.strip()}")
    assert result.returncode == 3
    report = json.loads(result.stderr)
    assert (report["exit_code"], report["argv"][1:]) == (3, ["-c", "raise SystemExit(3)"])
    assert report["peak_rss"] > 0


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (procstatus.ProcessNotFoundError, "no such process: process {pid}"),
        # Named after the command, yet not an exec failure: only the child's report is one.
        (
            lambda pid: procstatus.ProcfsPermissionError(errno.EACCES, "Permission denied", "true"),
            "Permission denied: true",
        ),
        (lambda pid: ChildProcessError(errno.ECHILD, "No child processes"), "No child processes"),
    ],
    ids=["process-not-found", "permission-error", "child-process-error"],
)
def test_errors_while_following_are_our_own_failure(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: Callable[[int], OSError],
    message: str,
) -> None:
    pids: list[int] = []

    def fail(pid: int) -> tuple[int, bool]:
        pids.append(pid)
        raise error(pid)

    monkeypatch.setattr(_run, "_peak_at_exit", fail)
    assert run_cli(["true"]) == 125
    assert capsys.readouterr().err == f"procstatus run: {message.format(pid=pids[0])}\n"
    with pytest.raises(ChildProcessError):
        os.waitpid(pids[0], os.WNOHANG | _run._WALL)


def test_json_and_human_output() -> None:
    report = io.StringIO()
    assert run_cli(["sh", "-c", "exit 4"], json_output=True, report=report) == 4
    data = json.loads(report.getvalue())
    assert sorted(data) == [
        "argv",
        "exit_code",
        "peak_exact",
        "peak_rss",
        "pid",
        "signal",
        "wall_s",
    ]
    assert (data["argv"], data["exit_code"], data["signal"]) == (["sh", "-c", "exit 4"], 4, None)

    report = io.StringIO()
    assert run_cli(["sh", "-c", "exit 4"], report=report) == 4
    lines = report.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["command", "peak RSS", "wall time", "exit"]
    assert lines[0] == "command:   sh -c 'exit 4'"
    assert lines[3] == "exit:      4"


@pytest.mark.parametrize(
    ("result", "text"),
    [
        (
            procstatus.RunResult(("python3", "-c", "x = 1"), 10, 108_421_120, 1.23456, 0),
            "command:   python3 -c 'x = 1'\n"
            "peak RSS:  103.4 MiB (108421120 bytes)\n"
            "wall time: 1.235 s\n"
            "exit:      0",
        ),
        (
            procstatus.RunResult(("big",), 11, 512, 0.5, 137, 9, peak_exact=False),
            "command:   big\n"
            "peak RSS:  512 B (512 bytes) (sampled: the main thread ended first)\n"
            "wall time: 0.500 s\n"
            "exit:      137 (killed by SIGKILL)",
        ),
    ],
    ids=["exited", "killed"],
)
def test_format_run_result(result: procstatus.RunResult, text: str) -> None:
    assert format_run_result(result) == text


# ---- hostile command names and closed streams ---------------------------------------------


def traced(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """``result``, or a skip where ptrace is not allowed (status 125)."""
    if result.returncode == 125:
        pytest.skip(f"ptrace is not allowed here: {result.stderr.strip()}")
    return result


def test_a_command_name_with_escapes_is_shown_escaped() -> None:
    result = procstatus_cmd("run", "--", "x\x1b[2J")
    assert (result.returncode, result.stdout) == (127, "")
    assert result.stderr == "procstatus run: x\\x1b[2J: command not found\n"


def test_the_report_shows_the_command_line_escaped() -> None:
    result = traced(procstatus_cmd("run", "--", "sh", "-c", "exit 0", "\x1b]0;owned\x07"))
    assert result.returncode == 0
    assert result.stderr.splitlines()[0] == "command:   sh -c 'exit 0' '\\x1b]0;owned\\x07'"


def test_format_run_result_escapes_the_command_line() -> None:
    result = procstatus.RunResult(("\x9b2J",), 10, 4096, 0.5, 0)
    assert format_run_result(result).splitlines()[0] == "command:   '\\x9b2J'"


@pytest.mark.parametrize("closed", ["stdout", "stderr", "both"])
def test_the_command_status_with_a_stream_closed(closed: str) -> None:
    result = traced(with_closed(closed, "run", "--", "sh", "-c", "exit 3"))
    assert result.returncode == 3
    if closed == "stdout":  # the report is on stderr, which is open
        assert result.stderr.splitlines()[-1] == "exit:      3"


def test_the_command_sees_the_closed_stdout() -> None:
    # procstatus hands the command its descriptors as they were: printf fails.
    result = traced(with_closed("stdout", "run", "--", "printf", "x"))
    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == f"exit:      {result.returncode}"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_the_command_status_when_the_report_cannot_be_written() -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [*PROCSTATUS, "run", "--", "sh", "-c", "exit 3"],
            stdout=subprocess.PIPE,
            stderr=full,
            text=True,
            timeout=60,
            check=False,
        )
    assert (result.returncode, result.stdout) == (3, "")


def test_the_command_status_when_stderr_is_a_broken_pipe() -> None:
    # The reader of stderr is gone before the report is written: EPIPE (procstatus
    # ignores SIGPIPE, as Python does), not a traceback, and not status 1.
    process = subprocess.Popen(
        [*PROCSTATUS, "run", "--", "sh", "-c", "sleep 0.2; exit 3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    process.stderr.close()
    stdout, _ = process.communicate(timeout=60)
    assert (process.returncode, stdout) == (3, "")


def test_run_cli_returns_the_status_when_the_report_fails() -> None:
    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    assert run_cli(["sh", "-c", "exit 5"], report=Broken()) == 5
