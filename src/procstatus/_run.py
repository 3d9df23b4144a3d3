"""``procstatus run``: run a command and report its own peak RSS, exactly.

The figure is VmHWM of the command's mm read at the moment the command exits.
The child is traced with ptrace (PTRACE_TRACEME, which needs no privilege up
to Yama ptrace_scope 2) and stopped at PTRACE_EVENT_EXIT: do_exit() reports
that event before exit_mm() drops the address space (kernel/exit.c), so
/proc/PID/status still shows the final VmHWM. Nothing is sampled, so a peak
reached just before exit is not missed, and the mm is the one execve() built,
so the parent's memory (which getrusage's ru_maxrss carries over from the
forked copy) is not in it. See docs/peak.md.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType
from typing import Callable, Optional, TextIO, Union

import attrs

from ._errors import PeakTraceError, ProcessNotFoundError
from ._read import read_pid, read_task, thread_ids
from ._units import format_size

__all__ = ["RunResult", "format_run_result", "run_cli", "run_command"]

# include/uapi/linux/ptrace.h
_PTRACE_TRACEME = 0
_PTRACE_CONT = 7
_PTRACE_SETOPTIONS = 0x4200
_PTRACE_GETSIGINFO = 0x4202
_PTRACE_O_TRACEEXEC = 0x10
_PTRACE_O_TRACEEXIT = 0x40
_PTRACE_O_EXITKILL = 1 << 20  # the command is SIGKILLed if we die (Linux 3.8)
_PTRACE_EVENT_EXEC = 4
_PTRACE_EVENT_EXIT = 6
# include/uapi/linux/wait.h: wait for the tracee whatever its kind of stop.
_WALL = 0x40000000

# Exit statuses of the child when it cannot become the command, as a shell and
# env(1) use them: 125 our own failure, 126 found but not runnable, 127 not found.
_STATUS_TRACE_FAILED = 125
_STATUS_CANNOT_RUN = 126
_STATUS_NOT_FOUND = 127

_STOP_SIGNALS = frozenset({signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU})
_SIGCONT_BIT = 1 << (signal.SIGCONT - 1)  # SigPnd/ShdPnd are masks with bit (signo - 1)


@attrs.frozen
class RunResult:
    """What :func:`run_command` measured."""

    #: The command as given.
    argv: tuple[str, ...]
    #: Process id the command ran as.
    pid: int
    #: VmHWM of the command's own mm when it exited (bytes).
    peak_rss: int
    #: Wall-clock seconds from just before the fork to the command's death.
    wall_s: float
    #: The exit status, or 128 + the signal number when a signal killed it (shell convention).
    exit_code: int
    #: The signal that killed the command, else None.
    signal: Optional[int] = None
    #: False only when the main thread ended before the others and the last of them
    #: took the process down: then peak_rss is the highest VmHWM sampled meanwhile.
    peak_exact: bool = True

    def to_json_dict(self) -> dict[str, object]:
        """Plain JSON-ready values; sizes in bytes, time in seconds."""
        return {
            "argv": list(self.argv),
            "pid": self.pid,
            "peak_rss": self.peak_rss,
            "wall_s": self.wall_s,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "peak_exact": self.peak_exact,
        }


_PtraceFunction = Callable[[int, int, Optional[int], Optional[int]], int]
_ptrace_cache: list[_PtraceFunction] = []


def _ptrace() -> _PtraceFunction:
    # Loaded before the fork so that the child only calls it. ctypes, json and
    # shlex are imported where they are used, so that `import procstatus` stays
    # cheap for programs that never run a command (docs/performance.md).
    import ctypes

    if not _ptrace_cache:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.ptrace
        function.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        function.restype = ctypes.c_long
        _ptrace_cache.append(function)
    return _ptrace_cache[0]


def run_command(argv: Sequence[str]) -> RunResult:
    """Run ``argv`` (searched on PATH), wait for it and return its peak RSS, wall time and status.

    The command inherits stdin, stdout, stderr, the environment and the working
    directory. While it runs, SIGINT and SIGQUIT are ignored here (the terminal
    sends them to the command too) and SIGTERM and SIGHUP are forwarded to it.
    Raises FileNotFoundError/PermissionError/OSError (``filename`` = ``argv[0]``)
    when it cannot be executed, and PeakTraceError when it cannot be traced.
    """
    command = tuple(argv)
    if not command:
        raise ValueError("run_command needs a command to run")
    ptrace = _ptrace()
    errors_read, errors_write = os.pipe()  # both close on exec
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child execs or exits
        _child(command, ptrace, errors_read, errors_write)
    os.close(errors_write)
    try:
        with _SignalForwarding(pid):
            status, peak, execed = _follow(pid, ptrace)
        wall = time.monotonic() - started
        if not execed:
            raise _child_failure(command, errors_read, status)
    finally:
        os.close(errors_read)
    if peak is None:
        raise PeakTraceError(
            errno.ESRCH, f"process {pid} ended without stopping at its exit; no peak was read"
        )
    peak_rss, exact = peak
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        return RunResult(command, pid, peak_rss, wall, 128 + signum, signum, exact)
    return RunResult(command, pid, peak_rss, wall, os.WEXITSTATUS(status), None, exact)


def _child(
    command: tuple[str, ...], ptrace: _PtraceFunction, errors_read: int, errors_write: int
) -> None:  # pragma: no cover - runs in the forked child
    import ctypes  # loaded by _ptrace() before the fork

    code = _STATUS_TRACE_FAILED
    try:
        os.close(errors_read)
        # Python ignores SIGPIPE and SIGXFSZ; a command expects the defaults (subprocess
        # restores them the same way). Ignored dispositions would survive execve.
        for signum in (signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(signum, signal.SIG_DFL)
        if ptrace(_PTRACE_TRACEME, 0, None, None) != 0:
            os.write(errors_write, b"T%d" % ctypes.get_errno())
            os._exit(_STATUS_TRACE_FAILED)
        # Stop until the parent has set the ptrace options, so the exec is reported.
        os.kill(os.getpid(), signal.SIGSTOP)
        try:
            os.execvp(command[0], command)  # noqa: S606 - an argv list, no shell
        except OSError as e:
            os.write(errors_write, b"E%d" % (e.errno or 0))
            code = _STATUS_NOT_FOUND if e.errno == errno.ENOENT else _STATUS_CANNOT_RUN
    finally:
        os._exit(code)


def _follow(pid: int, ptrace: _PtraceFunction) -> tuple[int, Optional[tuple[int, bool]], bool]:
    """Trace ``pid`` until it dies: (wait status, (peak, exact) at its exit stop, exec'd?)."""
    import ctypes  # loaded by _ptrace()

    options_set = own_stop_seen = execed = False
    peak: Optional[tuple[int, bool]] = None
    while True:
        _, status = os.waitpid(pid, _WALL)
        if not os.WIFSTOPPED(status):
            return status, peak, execed
        signum = os.WSTOPSIG(status)
        event = status >> 16
        resume_with = 0
        if not options_set:
            # The first stop (normally the child's own SIGSTOP): the tracee is in a
            # ptrace-stop, the only state where PTRACE_SETOPTIONS is allowed.
            options = _PTRACE_O_TRACEEXEC | _PTRACE_O_TRACEEXIT | _PTRACE_O_EXITKILL
            if ptrace(_PTRACE_SETOPTIONS, pid, None, options) != 0:
                code = ctypes.get_errno()
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, _WALL)
                raise PeakTraceError(code, f"cannot set ptrace options: {os.strerror(code)}")
            options_set = True
        if signum == signal.SIGTRAP and event == _PTRACE_EVENT_EXEC:
            execed = True
        elif signum == signal.SIGTRAP and event == _PTRACE_EVENT_EXIT:
            if execed:  # before the exec this is still the copy of our own process
                peak = _peak_at_exit(pid)
        elif event:
            pass  # no other event was asked for
        elif signum == signal.SIGSTOP and not execed and not own_stop_seen:
            own_stop_seen = True  # the child's own stop: swallow it
        elif signum in _STOP_SIGNALS and _is_group_stop(pid, ptrace):
            death = _wait_for_sigcont(pid)
            if death is not None:
                return death, peak, execed
        else:
            resume_with = signum  # a signal-delivery-stop: deliver the signal
        # ESRCH here means the tracee was killed meanwhile; the next wait reports it.
        ptrace(_PTRACE_CONT, pid, None, resume_with)


def _peak_at_exit(pid: int) -> tuple[int, bool]:
    """(VmHWM, exact) of ``pid`` stopped at PTRACE_EVENT_EXIT, once no other thread can raise it."""
    # While the traced thread group leader sits in this stop it holds the mm. In a
    # group exit (exit_group from any thread, a fatal signal) the other threads are
    # already dying and cannot fault in more memory: wait the moment it takes them
    # to go, then the figure is final. If the main thread left first (pthread_exit)
    # the others run on; then sample VmHWM while they do. That is exact only if the
    # leader is still stopped with its mm when the last of them is gone; when the
    # last one calls exit_group, its SIGKILL takes the leader out of this stop
    # (kernel/signal.c zap_other_threads) and the last sample is what we have.
    delay = 0.0005
    best = 0
    while True:
        status = read_pid(pid)
        if status.peak_rss is not None:
            best = max(best, status.peak_rss)
            if status.threads is None or status.threads <= 1:
                return best, True
        else:  # the leader was woken by SIGKILL and dropped its mm: sample the others
            best = max(best, _peak_of_other_threads(pid))
            return best, False
        if delay >= 0.004:  # not a group exit that is finishing: keep sampling the others
            best = max(best, _peak_of_other_threads(pid))
        time.sleep(delay)
        delay = min(delay * 2, 0.01)


def _peak_of_other_threads(pid: int) -> int:
    best = 0
    try:
        tids = thread_ids(pid)
    except ProcessNotFoundError:
        return best
    for tid in tids:
        if tid == pid:
            continue
        try:
            peak = read_task(pid, tid).peak_rss
        except ProcessNotFoundError:
            continue
        if peak is not None:
            best = max(best, peak)
    return best


def _is_group_stop(pid: int, ptrace: _PtraceFunction) -> bool:
    # man 2 ptrace: PTRACE_GETSIGINFO fails with EINVAL in a group-stop, and
    # succeeds in a signal-delivery-stop.
    import ctypes

    siginfo = ctypes.create_string_buffer(128)
    if ptrace(_PTRACE_GETSIGINFO, pid, None, ctypes.addressof(siginfo)) == 0:
        return False
    return ctypes.get_errno() == errno.EINVAL


def _wait_for_sigcont(pid: int) -> Optional[int]:
    """Keep the command in its group-stop until a SIGCONT is sent to it; or its death status."""
    # A PTRACE_TRACEME tracee in group-stop only runs again when the tracer resumes
    # it; SIGCONT does not wake it, it stays pending (kernel/signal.c prepare_signal
    # wakes only PT_SEIZED tracees). So job control (Ctrl-Z, then fg) keeps working,
    # this polls the pending masks and resumes the command once SIGCONT is there.
    while True:
        time.sleep(0.02)
        waited, status = os.waitpid(pid, _WALL | os.WNOHANG)
        if waited:
            return status
        try:
            pending = 0
            with open(f"/proc/{pid}/status", "rb") as f:
                for line in f:
                    if line.startswith((b"SigPnd:", b"ShdPnd:")):
                        pending |= int(line.split()[1], 16)
        except OSError:
            continue  # dying: the next wait reports it
        if pending & _SIGCONT_BIT:
            return None


class _SignalForwarding:
    """While the command runs: ignore SIGINT/SIGQUIT, forward SIGTERM/SIGHUP to the command."""

    _IGNORED = (signal.SIGINT, signal.SIGQUIT)
    _FORWARDED = (signal.SIGTERM, signal.SIGHUP)

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._previous: dict[int, object] = {}

    def __enter__(self) -> None:
        # Handlers can only be set from the main thread; elsewhere the caller's own apply.
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in self._IGNORED:
            self._previous[signum] = signal.signal(signum, self._ignore)
        for signum in self._FORWARDED:
            self._previous[signum] = signal.signal(signum, self._forward)

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _ignore(self, signum: int, frame: Optional[FrameType]) -> None:
        """The terminal sends these to the whole foreground group, the command included."""

    def _forward(self, signum: int, frame: Optional[FrameType]) -> None:
        with contextlib.suppress(ProcessLookupError):  # it just ended: nothing to forward
            os.kill(self._pid, signum)


def _child_failure(command: tuple[str, ...], errors_read: int, status: int) -> OSError:
    """The error for a child that died before its exec: it wrote the reason to the pipe."""
    os.set_blocking(errors_read, False)
    try:
        report = os.read(errors_read, 64)
    except BlockingIOError:
        report = b""
    kind, number = report[:1], report[1:]
    code = int(number) if number.isdigit() else 0
    if kind == b"T":
        return PeakTraceError(
            code,
            f"cannot trace the command (ptrace(PTRACE_TRACEME): {os.strerror(code)}); "
            "is ptrace forbidden here (Yama ptrace_scope 3, seccomp) "
            "or is procstatus itself being traced?",
        )
    if kind == b"E" and code:
        return OSError(code, os.strerror(code), command[0])
    return PeakTraceError(
        errno.ECHILD, f"the command ended before it started (wait status {status:#x})"
    )


def format_run_result(result: RunResult) -> str:
    """The human report of ``procstatus run``: several lines, no trailing newline."""
    import shlex

    if result.signal is None:
        status = str(result.exit_code)
    else:
        try:
            name = signal.Signals(result.signal).name
        except ValueError:
            name = f"signal {result.signal}"
        status = f"{result.exit_code} (killed by {name})"
    sampled = "" if result.peak_exact else " (sampled: the main thread ended first)"
    return "\n".join(
        [
            f"command:   {shlex.join(result.argv)}",
            f"peak RSS:  {format_size(result.peak_rss)} ({result.peak_rss} bytes){sampled}",
            f"wall time: {result.wall_s:.3f} s",
            f"exit:      {status}",
        ]
    )


def run_cli(
    argv: Sequence[str], *, json_output: bool = False, report: Union[TextIO, None] = None
) -> int:
    """Everything ``procstatus run`` does after argparse; returns procstatus's exit status.

    The report goes to ``report`` (default: stderr, so it does not mix with the
    command's own output). The status is the command's; 127 when it is not
    found, 126 when it cannot be executed, 125 when it cannot be traced.
    """
    out = sys.stderr if report is None else report
    try:
        result = run_command(argv)
    except PeakTraceError as e:
        print(f"procstatus run: {e.strerror}", file=sys.stderr)
        return _STATUS_TRACE_FAILED
    except OSError as e:
        if e.errno == errno.ENOENT:
            print(f"procstatus run: {argv[0]}: command not found", file=sys.stderr)
            return _STATUS_NOT_FOUND
        print(f"procstatus run: {argv[0]}: {e.strerror}", file=sys.stderr)
        return _STATUS_CANNOT_RUN
    if json_output:
        import json

        print(json.dumps(result.to_json_dict()), file=out)
    else:
        print(format_run_result(result), file=out)
    return result.exit_code
