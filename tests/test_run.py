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
import types
from collections.abc import Callable
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
def test_main_thread_leaving_first_still_gives_the_peak(tmp_path: Path) -> None:
    source = tmp_path / "leaves_first.c"
    source.write_text(MAIN_THREAD_LEAVES_FIRST)
    program = tmp_path / "leaves_first"
    subprocess.run(["cc", "-pthread", "-o", str(program), str(source)], check=True)
    result = procstatus.run_command([str(program)])
    assert result.exit_code == 0
    # Usually the leader's exit stop comes long before the worker ends, and the
    # figure is sampled (peak_exact False); on a loaded machine the worker may end
    # while the leader still holds the mm at its stop, and the figure is exact.
    # Either way it includes the worker's 64 MiB.
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


def _traced_child(runner: int, name: bytes = b"sleep") -> int:
    children = Path(f"/proc/{runner}/task/{runner}/children")
    for _ in range(500):
        pids = children.read_text().split()
        if pids and Path(f"/proc/{pids[0]}/cmdline").read_bytes().startswith(name):
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


def _state(pid: int) -> str:
    # The field after "(comm)" in /proc/PID/stat; comm may hold spaces and parentheses.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _wait_until_held_stopped(pid: int) -> None:
    """Until the traced command has sat in a stop for 10 polls: past the
    signal-delivery-stop, held by procstatus in its group-stop."""
    stopped_polls = 0
    for _ in range(1000):
        stopped_polls = stopped_polls + 1 if _state(pid) == "t" else 0
        if stopped_polls == 10:
            return
        time.sleep(0.02)
    pytest.fail(f"process {pid} did not stay stopped")


def test_job_control_stop_and_continue() -> None:
    with _spawn_runner(["sleep", "3"]) as runner:
        command = _traced_child(runner.pid)
        os.kill(command, signal.SIGSTOP)
        _wait_until_held_stopped(command)
        assert runner.poll() is None  # procstatus waits while its command is stopped
        os.kill(command, signal.SIGCONT)
        out, _ = runner.communicate(timeout=20)
    assert json.loads(out)["exit_code"] == 0


def test_sigkill_while_stopped_is_reported() -> None:
    # The shell stops itself; while procstatus keeps it in that group-stop, SIGKILL
    # takes it to its exit stop, which is a stop to handle, not its death.
    with _spawn_runner(["sh", "-c", "kill -STOP $$; sleep 30"]) as runner:
        command = _traced_child(runner.pid, b"sh")
        _wait_until_held_stopped(command)
        os.kill(command, signal.SIGKILL)
        out, _ = runner.communicate(timeout=20)
    assert runner.returncode == 0
    data = json.loads(out)
    assert (data["exit_code"], data["signal"]) == (137, 9)
    assert data["peak_rss"] > 0


def test_fork_failure_closes_the_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    def fork() -> int:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    before = sorted(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(os, "fork", fork)
    with pytest.raises(BlockingIOError):
        procstatus.run_command(["true"])
    monkeypatch.undo()
    assert sorted(os.listdir("/proc/self/fd")) == before


def _fail_at_the_exit_stop(pid: int) -> tuple[int, bool]:
    raise OSError(errno.EIO, "Input/output error")


def _interrupt_before_forwarding(self: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("where", "replacement", "command", "error"),
    [
        ("_peak_at_exit", _fail_at_the_exit_stop, ["true"], OSError),
        (
            "_SignalForwarding.__enter__",
            _interrupt_before_forwarding,
            ["sleep", "30"],
            KeyboardInterrupt,
        ),
    ],
    ids=["read-error-at-exit-stop", "interrupt-before-forwarding"],
)
def test_command_is_killed_and_reaped_when_following_fails(
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    replacement: Callable[..., object],
    command: list[str],
    error: type[BaseException],
) -> None:
    pids: list[int] = []
    real_waitpid = os.waitpid

    def waitpid(pid: int, options: int) -> tuple[int, int]:
        pids.append(pid)
        return real_waitpid(pid, options)

    monkeypatch.setattr(os, "waitpid", waitpid)
    owner, _, name = where.rpartition(".")
    monkeypatch.setattr(getattr(_run, owner) if owner else _run, name, replacement)
    with pytest.raises(error):
        procstatus.run_command(command)
    monkeypatch.undo()
    assert pids
    with pytest.raises(ChildProcessError):  # reaped: no longer a child of ours
        os.waitpid(pids[0], os.WNOHANG | _run._WALL)


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


def test_handlers_installed_from_c_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # signal.getsignal() says None for a handler Python did not install and cannot
    # reinstall; stand in for one on SIGHUP.
    real_getsignal, real_signal = signal.getsignal, signal.signal
    installed: list[int] = []

    def getsignal(signum: int) -> object:
        return None if signum == signal.SIGHUP else real_getsignal(signum)

    def record(signum: int, handler: object) -> object:
        installed.append(signum)
        return real_signal(signum, handler)  # type: ignore[arg-type]

    before = real_getsignal(signal.SIGHUP)
    monkeypatch.setattr(signal, "getsignal", getsignal)
    monkeypatch.setattr(signal, "signal", record)
    assert procstatus.run_command(["true"]).exit_code == 0
    monkeypatch.undo()
    assert signal.SIGHUP not in installed
    assert signal.SIGTERM in installed
    assert real_getsignal(signal.SIGHUP) == before


def test_no_signal_is_forwarded_once_the_command_is_reaped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, signum: sent.append((pid, signum)))
    trace = _run._Trace(999_999, _run._ptrace())
    forwarding = _run._SignalForwarding(trace)
    forwarding._forward(signal.SIGTERM, None)
    trace.reaped = True  # from here on the pid may belong to another process
    forwarding._forward(signal.SIGHUP, None)
    assert sent == [(999_999, signal.SIGTERM)]


def test_other_threads_are_read_until_one_shows_the_peak(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read: list[int] = []

    def read_task(pid: int, tid: int) -> types.SimpleNamespace:
        read.append(tid)
        if tid == 11:
            raise procstatus.ProcessNotFoundError(pid, tid)
        return types.SimpleNamespace(peak_rss=None if tid == 12 else 5 * MiB)

    monkeypatch.setattr(_run, "thread_ids", lambda pid: [10, 11, 12, 13, 14])
    monkeypatch.setattr(_run, "read_task", read_task)
    assert _run._peak_of_other_threads(10) == 5 * MiB
    assert read == [11, 12, 13]  # one mm: 14 would show the same figure


def test_leader_with_its_mm_is_the_only_thread_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # The other threads of a group exit take a while to go; the leader's VmHWM is
    # the figure of their shared mm meanwhile.
    figures = iter([(2 * MiB, 3)] * 8 + [(3 * MiB, 1)])

    def read_pid(pid: int) -> types.SimpleNamespace:
        peak, threads = next(figures)
        return types.SimpleNamespace(peak_rss=peak, threads=threads)

    def read_others(pid: int) -> int:
        pytest.fail("the other threads were read")

    monkeypatch.setattr(_run, "read_pid", read_pid)
    monkeypatch.setattr(_run, "_peak_of_other_threads", read_others)
    assert _run._peak_at_exit(42) == (3 * MiB, True)


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
            procstatus.RunResult(
                argv=("python3", "-c", "x = 1"),
                pid=10,
                peak_rss=108_421_120,
                peak_pid=10,
                wall_s=1.23456,
                exit_code=0,
            ),
            "command:   python3 -c 'x = 1'\n"
            "peak RSS:  103.4 MiB (108421120 bytes)\n"
            "wall time: 1.235 s\n"
            "exit:      0",
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
            ),
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
