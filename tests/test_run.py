"""run_command / ``procstatus run``: the peak RSS of a command, read at its exit.

Big allocations happen in the commands or in child Pythons, not in this process.
"""

from __future__ import annotations

import ctypes
import errno
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import pytest

import procstatus
from procstatus import _run
from procstatus._run import format_run_result, run_cli

MiB = 1 << 20
PY = sys.executable


def test_peak_reached_right_before_exit_is_seen() -> None:
    code = "import os; data = b'x' * (100 << 20); os._exit(0)"
    result = procstatus.run_command([PY, "-c", code])
    assert result.peak_rss >= 100 * MiB
    assert result.exit_code == 0
    assert result.peak_exact


# A Python parent holding 500 MB runs `true`; ru_maxrss of its children counts the
# forked copy of the parent, our figure does not.
BIG_PARENT = """
import json, resource, procstatus
hold = b"x" * (500 << 20)
result = procstatus.run_command(["true"])
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps([result.peak_rss, children]))
"""


def test_parent_memory_is_not_counted() -> None:
    out = subprocess.run([PY, "-c", BIG_PARENT], check=True, capture_output=True, text=True)
    peak, ru_maxrss_children = json.loads(out.stdout)
    assert peak < 20 * MiB
    assert ru_maxrss_children >= 500 * MiB  # what /usr/bin/time -v would have said


@pytest.mark.parametrize(
    ("code", "exit_code", "signum"),
    [
        ("pass", 0, None),
        ("raise SystemExit(3)", 3, None),
        ("import os; os.kill(os.getpid(), 9)", 137, 9),
        ("import os; os.kill(os.getpid(), 15)", 143, 15),
    ],
    ids=["success", "exit-3", "sigkill", "sigterm"],
)
def test_exit_status(code: str, exit_code: int, signum: Optional[int]) -> None:
    result = procstatus.run_command([PY, "-c", code])
    assert (result.exit_code, result.signal) == (exit_code, signum)
    assert result.peak_rss > 0


# exit_group() from a thread that is not the main thread: the main (traced) thread
# still stops at its exit with the mm in place.
EXIT_FROM_A_THREAD = """
import os, threading, time
def work():
    data = b"x" * (100 << 20)
    os._exit(5)
threading.Thread(target=work).start()
time.sleep(60)
"""


def test_exit_from_another_thread() -> None:
    result = procstatus.run_command([PY, "-c", EXIT_FROM_A_THREAD])
    assert result.exit_code == 5
    assert result.peak_rss >= 100 * MiB
    assert result.peak_exact


MAIN_THREAD_LEAVES_FIRST = r"""
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
static void *work(void *arg) {
    usleep(200000);
    volatile char *p = malloc(64 << 20);
    for (long i = 0; i < (64 << 20); i += 4096) p[i] = 1;
    usleep(200000);
    return arg;
}
int main(void) { pthread_t t; pthread_create(&t, 0, work, 0); pthread_exit(0); }
"""


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
def test_main_thread_leaving_first_is_sampled(tmp_path: Path) -> None:
    source = tmp_path / "leaves_first.c"
    source.write_text(MAIN_THREAD_LEAVES_FIRST)
    program = tmp_path / "leaves_first"
    subprocess.run(["cc", "-pthread", "-o", str(program), str(source)], check=True)
    result = procstatus.run_command([str(program)])
    assert result.exit_code == 0
    assert not result.peak_exact
    assert result.peak_rss >= 64 * MiB


@pytest.mark.parametrize(
    ("argv", "error", "status", "message"),
    [
        (
            ["no-such-command-here"],
            FileNotFoundError,
            127,
            "no-such-command-here: command not found",
        ),
        (["./data.txt"], PermissionError, 126, "./data.txt: Permission denied"),
    ],
    ids=["not-found", "not-executable"],
)
def test_command_that_cannot_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    error: type[OSError],
    status: int,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "data.txt").write_text("no execute bit\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error) as caught:
        procstatus.run_command(argv)
    assert caught.value.filename == argv[0]
    assert run_cli(argv) == status
    assert capsys.readouterr().err == f"procstatus run: {message}\n"


def test_ptrace_not_permitted(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stand in for Yama ptrace_scope 3: PTRACE_TRACEME fails with EPERM in the child.
    def refuse(request: int, pid: int, addr: Optional[int], data: Optional[int]) -> int:
        ctypes.set_errno(errno.EPERM)
        return -1

    monkeypatch.setattr(_run, "_ptrace_cache", [refuse])
    with pytest.raises(procstatus.PeakTraceError) as caught:
        procstatus.run_command(["true"])
    assert caught.value.errno == errno.EPERM
    assert caught.value.strerror is not None
    assert caught.value.strerror.startswith(
        "cannot trace the command (ptrace(PTRACE_TRACEME): Operation not permitted)"
    )


def test_empty_command() -> None:
    with pytest.raises(ValueError, match=r"^run_command needs a command to run$"):
        procstatus.run_command([])


def _spawn_runner(command: list[str]) -> subprocess.Popen[str]:
    code = (
        "import json, procstatus\n"
        f"print(json.dumps(procstatus.run_command({command!r}).to_json_dict()))"
    )
    return subprocess.Popen([PY, "-c", code], stdout=subprocess.PIPE, text=True)


def _traced_child(runner: int) -> int:
    children = Path(f"/proc/{runner}/task/{runner}/children")
    for _ in range(500):
        pids = children.read_text().split()
        if pids and Path(f"/proc/{pids[0]}/cmdline").read_bytes().startswith(b"sleep"):
            return int(pids[0])
        time.sleep(0.01)
    raise AssertionError("the command did not start")


def test_sigterm_is_forwarded_to_the_command() -> None:
    with _spawn_runner(["sleep", "30"]) as runner:
        _traced_child(runner.pid)
        runner.send_signal(signal.SIGTERM)
        out, _ = runner.communicate(timeout=20)
    assert runner.returncode == 0  # procstatus itself reports and ends normally
    assert json.loads(out)["exit_code"] == 143


def test_job_control_stop_and_continue() -> None:
    with _spawn_runner(["sleep", "0.5"]) as runner:
        command = _traced_child(runner.pid)
        os.kill(command, signal.SIGSTOP)
        time.sleep(1)  # a stopped sleep does not end on time
        assert runner.poll() is None
        os.kill(command, signal.SIGCONT)
        out, _ = runner.communicate(timeout=20)
    assert json.loads(out)["exit_code"] == 0


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
