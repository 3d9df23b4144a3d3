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
from pathlib import Path
from typing import Any, Callable, Optional

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

    def fail(root: str, pid: int, tid: int) -> bytes:
        pids.append(pid)
        raise error(pid)

    monkeypatch.setattr(_run, "_read_at_exit", fail)
    assert run_cli(["true"]) == 125
    assert capsys.readouterr().err == f"procstatus run: {message.format(pid=pids[0])}\n"
    with pytest.raises(ChildProcessError):
        os.waitpid(pids[0], os.WNOHANG | _run._WALL)


def test_json_report_is_complete() -> None:
    report = io.StringIO()
    assert run_cli(["sh", "-c", "sh -c 'exit 2'; exit 4"], json_output=True, report=report) == 4
    data = json.loads(report.getvalue())
    assert sorted(data) == [
        "argv",
        "exit_code",
        "interval_s",
        "peak_exact",
        "peak_pid",
        "peak_rss",
        "pid",
        "processes",
        "signal",
        "tree_peak_pss_sampled",
        "tree_peak_rss_bound",
        "tree_peak_rss_sampled",
        "wall_s",
    ]
    assert (data["argv"], data["exit_code"], data["signal"]) == (
        ["sh", "-c", "sh -c 'exit 2'; exit 4"],
        4,
        None,
    )
    assert [p["exit_code"] for p in data["processes"]] == [4, 2]
    assert data["tree_peak_rss_sampled"] <= data["tree_peak_rss_bound"]


def test_human_report_of_a_tree() -> None:
    report = io.StringIO()
    assert run_cli(["sh", "-c", "sh -c 'exit 2'; exit 4"], report=report) == 4
    lines = report.getvalue().splitlines()
    labels = [line[:15].strip() for line in lines]
    assert labels[:12] == [
        "command:",
        "peak RSS:",
        "",
        "tree bound:",
        "",
        "tree sampled:",
        "",
        "shared pages:",
        "processes:",
        "wall time:",
        "exit:",
        "",
    ]
    assert lines[12] == "processes by peak RSS:"
    assert lines[13].split() == ["PID", "PEAK", "EXIT", "COMMAND"]
    assert lines[0] == "command:       sh -c 'sh -c '\"'\"'exit 2'\"'\"'; exit 4'"
    assert lines[8] == "processes:     2"
    assert lines[10] == "exit:          4"
    rows = sorted(line.split(maxsplit=4)[3:] for line in lines[14:])  # EXIT and COMMAND
    assert rows == [["2", "sh -c 'exit 2'"], ["4", lines[0][15:]]]


def test_human_report_of_one_process() -> None:
    report = io.StringIO()
    assert run_cli(["sh", "-c", "exit 4"], report=report) == 4
    lines = report.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "command",
        "peak RSS",
        "processes",
        "wall time",
        "exit",
    ]
    assert lines[0] == "command:       sh -c 'exit 4'"
    assert lines[4] == "exit:          4"


def _process(
    pid: int,
    argv: tuple[str, ...],
    peak: Optional[int],
    *,
    exit_code: Optional[int] = 0,
    signum: Optional[int] = None,
    running: bool = False,
) -> procstatus.ProcessRun:
    return procstatus.ProcessRun(
        pid=pid,
        ppid=pid - 1,
        argv=argv,
        peak_rss=peak,
        peak_exact=not running,  # a process let go running has its peak so far
        exit_code=exit_code,
        signal=signum,
        start_s=pid / 1000,
        end_s=None if running else 1.0,
        running=running,
    )


TREE = procstatus.RunResult(
    argv=("sh", "-c", "make -j2"),
    pid=100,
    peak_rss=218_578_944,
    peak_pid=102,
    wall_s=1.23456,
    exit_code=0,
    tree_peak_rss_bound=225_000_000,
    tree_peak_rss_sampled=164_978_688,
    processes=(
        _process(100, ("sh", "-c", "make -j2"), 1_671_168),
        _process(101, ("make", "-j2"), 3_000_000, exit_code=None, running=True),
        _process(
            102,
            ("cc1", "-quiet", "-O2", "-o", "/tmp/ccXYZ.s", "big.c"),
            218_578_944,
            exit_code=137,
            signum=9,
        ),
        _process(103, ("as",), None, exit_code=1),
    ),
)


@pytest.mark.parametrize(
    ("result", "options", "text"),
    [
        (
            procstatus.RunResult(
                argv=("python3", "-c", "x = 1"),
                pid=10,
                peak_rss=108_421_120,
                peak_pid=10,
                wall_s=1.23456,
                exit_code=0,
                processes=(_process(10, ("python3", "-c", "x = 1"), 108_421_120),),
            ),
            {},
            "command:       python3 -c 'x = 1'\n"
            "peak RSS:      103.4 MiB (108421120 bytes) in pid 10\n"
            "processes:     1\n"
            "wall time:     1.235 s\n"
            "exit:          0",
        ),
        (
            procstatus.RunResult(
                argv=("big",),
                pid=11,
                peak_rss=512,
                peak_pid=11,
                wall_s=0.5,
                exit_code=137,
                signal=9,
                peak_exact=False,
                tree_peak_pss_sampled=256,
                processes=(_process(11, ("big",), 512, exit_code=137, signum=9),),
            ),
            {},
            "command:       big\n"
            "peak RSS:      512 B (512 bytes) (sampled: its exit stop was missed) in pid 11\n"
            "PSS seen:      256 B (256 bytes) the most PSS seen at once:\n"
            "               each shared page divided among the processes that map it\n"
            "processes:     1\n"
            "wall time:     0.500 s\n"
            "exit:          137 (killed by SIGKILL)",
        ),
        (
            TREE,
            {},
            "command:       sh -c 'make -j2'\n"
            "peak RSS:      208.5 MiB (218578944 bytes) in pid 102, the largest process:\n"
            "               cc1 -quiet -O2 -o /tmp/ccXYZ.s big.c\n"
            "tree bound:    214.6 MiB (225000000 bytes) at most at once:\n"
            "               the peaks of the processes alive at the same time, added\n"
            "tree sampled:  157.3 MiB (164978688 bytes) the most seen at once:\n"
            "               RSS of the live processes added every 0.05 s and at fork/exec/exit\n"
            "shared pages:  RSS counts them in every process: both RSS sums overcount\n"
            "processes:     4 (1 still running, let go untraced)\n"
            "wall time:     1.235 s\n"
            "exit:          0\n"
            "\n"
            "processes by peak RSS (2 of 4; --top 0 for all):\n"
            "     PID       PEAK  EXIT     COMMAND\n"
            "     102  208.5 MiB  SIGKILL  cc1 -quiet -O2 -o /tmp/ccXYZ.s big.c\n"
            "     101    2.9 MiB  running  make -j2",
        ),
        (
            TREE,
            {"top": 0, "exact": True, "width": 40},
            "command:       sh -c 'make -j2'\n"
            "peak RSS:      208.5 MiB (218578944 bytes) in pid 102, the largest process:\n"
            "               cc1 -quiet -O2 -o /tmp...\n"
            "tree bound:    214.6 MiB (225000000 bytes) at most at once:\n"
            "               the peaks of the processes alive at the same time, added\n"
            "tree sampled:  157.3 MiB (164978688 bytes) the most seen at once:\n"
            "               RSS of the live processes added every 0.05 s and at fork/exec/exit\n"
            "shared pages:  RSS counts them in every process: both RSS sums overcount\n"
            "processes:     4 (1 still running, let go untraced)\n"
            "wall time:     1.235 s\n"
            "exit:          0\n"
            "\n"
            "processes by peak RSS:\n"
            "     PID       PEAK  EXIT     COMMAND\n"
            "     102  218578944  SIGKILL  cc1 -quiet -O2 -o...\n"
            "     101    3000000  running  make -j2\n"
            "     100    1671168  0        sh -c 'make -j2'\n"
            "     103          -  1        as",
        ),
        (
            procstatus.RunResult(
                argv=("sh", "-c", "server &"),
                pid=20,
                peak_rss=4096,
                peak_pid=21,
                wall_s=0.25,
                exit_code=0,
                peak_exact=False,
                tree_peak_rss_bound=6144,
                tree_peak_rss_sampled=5120,
                processes=(
                    _process(20, ("sh", "-c", "server &"), 2048),
                    _process(21, ("server",), 4096, exit_code=None, running=True),
                ),
            ),
            {},
            "command:       sh -c 'server &'\n"
            "peak RSS:      4.0 KiB (4096 bytes) (so far: still running) in pid 21, the largest "
            "process:\n"
            "               server\n"
            "tree bound:    6.0 KiB (6144 bytes) at most at once:\n"
            "               the peaks of the processes alive at the same time, added\n"
            "tree sampled:  5.0 KiB (5120 bytes) the most seen at once:\n"
            "               RSS of the live processes added every 0.05 s and at fork/exec/exit\n"
            "shared pages:  RSS counts them in every process: both RSS sums overcount\n"
            "processes:     2 (1 still running, let go untraced)\n"
            "wall time:     0.250 s\n"
            "exit:          0\n"
            "\n"
            "processes by peak RSS:\n"
            "     PID     PEAK  EXIT     COMMAND\n"
            "      21  4.0 KiB  running  server\n"
            "      20  2.0 KiB  0        sh -c 'server &'",
        ),
    ],
    ids=["exited", "killed-with-pss", "tree", "tree-all-bytes-narrow", "largest-still-running"],
)
def test_format_run_result(
    result: procstatus.RunResult, options: dict[str, Any], text: str
) -> None:
    if not options:
        options = {"top": 2}
    assert format_run_result(result, **options) == text


def test_output_file_leaves_the_command_streams_alone(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = traced(
        procstatus_cmd(
            "run", "--json", "-o", str(report), "--", "sh", "-c", "echo out; echo err >&2; exit 3"
        )
    )
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")
    data = json.loads(report.read_text())
    assert data["exit_code"] == 3


def test_output_file_replaces_the_file_and_takes_short_clusters(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    report.write_text("old text that must go\n" * 100)
    result = traced(procstatus_cmd("run", "-bo", str(report), "--top", "1", "sh", "-c", "exit 0"))
    assert (result.returncode, result.stderr) == (0, "")
    text = report.read_text()
    assert text.startswith("command:       sh -c 'exit 0'\n")
    assert "old text" not in text


def test_output_file_that_cannot_be_written(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    result = procstatus_cmd(
        "run", "-o", str(tmp_path / "no" / "such" / "dir"), "--", "touch", str(marker)
    )
    assert result.returncode == 125
    assert result.stderr == (
        f"procstatus run: cannot write the report to {tmp_path}/no/such/dir:"
        " No such file or directory\n"
    )
    assert not marker.exists()  # the command never started


def test_pss_and_interval_options() -> None:
    result = traced(
        procstatus_cmd(
            "run", "--json", "--pss", "--interval", "0.01", "--", "sh", "-c", "sleep 0.2"
        )
    )
    data = json.loads(result.stderr)
    assert data["interval_s"] == 0.01
    assert data["tree_peak_pss_sampled"] > 0


def test_wait_all_option() -> None:
    result = traced(procstatus_cmd("run", "--json", "--wait-all", "--", "sh", "-c", "sleep 0.2 &"))
    data = json.loads(result.stderr)
    assert [process["running"] for process in data["processes"]] == [False, False]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--top", "-1"], "argument --top: not a whole number from 0 up: '-1'"),
        (["--interval", "0"], "argument --interval: must be from 0.01 to 1000000 seconds, not 0"),
        ([], "give the command to run after --, e.g. procstatus run -- make -j4"),
    ],
    ids=["negative-top", "zero-interval", "no-command"],
)
def test_bad_arguments(args: list[str], message: str) -> None:
    result = procstatus_cmd("run", *args, "--", *([] if not args else ["true"]))
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"procstatus run: error: {message}"


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
    assert result.stderr.splitlines()[0] == "command:       sh -c 'exit 0' '\\x1b]0;owned\\x07'"


def test_format_run_result_escapes_the_command_line() -> None:
    result = procstatus.RunResult(
        argv=("\x9b2J",), pid=10, peak_rss=4096, peak_pid=10, wall_s=0.5, exit_code=0
    )
    assert format_run_result(result).splitlines()[0] == "command:       '\\x9b2J'"


@pytest.mark.parametrize("closed", ["stdout", "stderr", "both"])
def test_the_command_status_with_a_stream_closed(closed: str) -> None:
    result = traced(with_closed(closed, "run", "--", "sh", "-c", "exit 3"))
    assert result.returncode == 3
    if closed == "stdout":  # the report is on stderr, which is open
        assert result.stderr.splitlines()[-1] == "exit:          3"


def test_the_command_sees_the_closed_stdout() -> None:
    # procstatus hands the command its descriptors as they were: printf fails.
    result = traced(with_closed("stdout", "run", "--", "printf", "x"))
    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == f"exit:          {result.returncode}"


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
