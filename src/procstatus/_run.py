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
import threading
import time
from collections.abc import Sequence
from types import FrameType
from typing import Callable, Optional

import attrs

from ._errors import PeakTraceError, ProcessNotFoundError
from ._read import read_pid, read_task, thread_ids

__all__ = ["RunResult", "run_command"]

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
    Whatever is raised, the command has been killed and reaped first.
    """
    try:
        return _run_traced(argv)
    except _CannotExecuteError as e:
        raise e.error from None


class _CannotExecuteError(Exception):
    """The child could not exec the command: ``error`` says why (``filename`` = ``argv[0]``).

    A wrapper, so that run_cli tells this apart from an OSError met while following.
    """

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.error = error


def _run_traced(argv: Sequence[str]) -> RunResult:
    command = tuple(argv)
    if not command:
        raise ValueError("run_command needs a command to run")
    ptrace = _ptrace()
    errors_read, errors_write = os.pipe()  # both close on exec
    try:
        started = time.monotonic()
        pid = os.fork()
    except BaseException:
        os.close(errors_read)
        os.close(errors_write)
        raise
    if pid == 0:  # pragma: no cover - the child execs or exits
        _child(command, ptrace, errors_read, errors_write)
    trace = _Trace(pid, ptrace)
    try:
        os.close(errors_write)
        with _SignalForwarding(trace):
            status = _follow(trace)
        wall = time.monotonic() - started
        if not trace.execed:
            raise _child_failure(command, errors_read, status)
    except BaseException:
        # Never leave the command behind, stopped and traced by a caller that
        # has moved on: a KeyboardInterrupt, a failed read at the exit stop...
        if not trace.reaped:
            _kill_and_reap(trace)
        raise
    finally:
        os.close(errors_read)
    if trace.peak is None:
        raise PeakTraceError(
            errno.ESRCH, f"process {pid} ended without stopping at its exit; no peak was read"
        )
    peak_rss, exact = trace.peak
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


class _Trace:
    """What is known about the traced command; shared with the signal handlers."""

    def __init__(self, pid: int, ptrace: _PtraceFunction) -> None:
        self.pid = pid
        self.ptrace = ptrace
        self.options_set = False
        self.own_stop_seen = False
        self.execed = False
        #: (VmHWM, exact) read at its PTRACE_EVENT_EXIT stop.
        self.peak: Optional[tuple[int, bool]] = None
        #: Waited for as dead (or not our child any more): its pid may be reused.
        self.reaped = False

    def wait(self, flags: int = 0) -> Optional[int]:
        """The next wait status of the command; None with WNOHANG when there is none."""
        try:
            waited, status = os.waitpid(self.pid, _WALL | flags)
        except ChildProcessError:
            # Not our child any more: reaped by the kernel (SIGCHLD ignored) or by
            # someone else's waitpid(-1). Either way the pid is no longer ours to signal.
            self.reaped = True
            raise
        if not waited:
            return None
        # Set before anything else runs. A signal handler can still run between the
        # kernel's reap and this line, but a pid is not reused within microseconds:
        # they are handed out in a cycle through pid_max (kernel/pid.c alloc_pid).
        self.reaped = not os.WIFSTOPPED(status)
        return status

    def on_stop(self, status: int) -> Optional[int]:
        """Handle one stop: the signal to resume the command with, or None to keep it stopped."""
        import ctypes  # loaded by _ptrace()

        pid, ptrace = self.pid, self.ptrace
        signum = os.WSTOPSIG(status)
        event = status >> 16
        if not self.options_set:
            # The first stop (normally the child's own SIGSTOP): the tracee is in a
            # ptrace-stop, the only state where PTRACE_SETOPTIONS is allowed.
            options = _PTRACE_O_TRACEEXEC | _PTRACE_O_TRACEEXIT | _PTRACE_O_EXITKILL
            if ptrace(_PTRACE_SETOPTIONS, pid, None, options) != 0:
                code = ctypes.get_errno()
                raise PeakTraceError(code, f"cannot set ptrace options: {os.strerror(code)}")
            self.options_set = True
        if signum == signal.SIGTRAP and event == _PTRACE_EVENT_EXEC:
            self.execed = True
        elif signum == signal.SIGTRAP and event == _PTRACE_EVENT_EXIT:
            if self.execed:  # before the exec this is still the copy of our own process
                self.peak = _peak_at_exit(pid)
        elif event:
            pass  # no other event was asked for
        elif signum == signal.SIGSTOP and not self.execed and not self.own_stop_seen:
            self.own_stop_seen = True  # the child's own stop: swallow it
        elif signum in _STOP_SIGNALS and _is_group_stop(pid, ptrace):
            return None
        else:
            return signum  # a signal-delivery-stop: deliver the signal
        return 0


def _follow(trace: _Trace) -> int:
    """Trace the command until it dies; its last wait status."""
    held = False  # the command is in a group-stop that we keep it in
    while True:
        if held:
            # A PTRACE_TRACEME tracee in group-stop only runs again when the tracer
            # resumes it; SIGCONT does not wake it, it stays pending (kernel/signal.c
            # prepare_signal wakes only PT_SEIZED tracees). So that job control
            # (Ctrl-Z, then fg) keeps working, poll the pending masks and resume the
            # command once SIGCONT is there. Meanwhile a new stop (a SIGKILL takes it
            # to its exit stop) or its death is handled like any other wait status.
            time.sleep(0.02)
        status = trace.wait(os.WNOHANG if held else 0)
        if status is None:  # still in the group-stop
            if _sigcont_pending(trace.pid):
                held = False
                trace.ptrace(_PTRACE_CONT, trace.pid, None, 0)
            continue
        if trace.reaped:
            return status
        resume_with = trace.on_stop(status)
        held = resume_with is None
        if resume_with is not None:
            # ESRCH here means the tracee was killed meanwhile; the next wait reports it.
            trace.ptrace(_PTRACE_CONT, trace.pid, None, resume_with)


def _kill_and_reap(trace: _Trace) -> None:
    """SIGKILL the command and wait until it is dead, after something went wrong."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(trace.pid, signal.SIGKILL)
    # If it sits in a ptrace-stop it must also be resumed: at its exit stop the
    # process is already exiting and the SIGKILL is dropped (kernel/signal.c
    # prepare_signal, SIGNAL_GROUP_EXIT). Fails with ESRCH when it is not stopped.
    trace.ptrace(_PTRACE_CONT, trace.pid, None, 0)
    with contextlib.suppress(ChildProcessError):
        # Before the options are set, SIGKILL ends even a stopped tracee at once;
        # after, it still stops at PTRACE_EVENT_EXIT: let it go on from there.
        while not trace.reaped:
            if trace.wait() is not None and not trace.reaped:
                trace.ptrace(_PTRACE_CONT, trace.pid, None, 0)


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
        time.sleep(delay)
        delay = min(delay * 2, 0.01)


def _peak_of_other_threads(pid: int) -> int:
    """VmHWM as seen by any thread of ``pid`` that still has the mm; 0 if none does."""
    # All threads share one mm, so the first one that shows VmHWM tells it all.
    try:
        tids = thread_ids(pid)
    except ProcessNotFoundError:
        return 0
    for tid in tids:
        if tid == pid:
            continue
        try:
            peak = read_task(pid, tid).peak_rss
        except ProcessNotFoundError:
            continue
        if peak is not None:
            return peak
    return 0


def _is_group_stop(pid: int, ptrace: _PtraceFunction) -> bool:
    # man 2 ptrace: PTRACE_GETSIGINFO fails with EINVAL in a group-stop, and
    # succeeds in a signal-delivery-stop.
    import ctypes

    siginfo = ctypes.create_string_buffer(128)
    if ptrace(_PTRACE_GETSIGINFO, pid, None, ctypes.addressof(siginfo)) == 0:
        return False
    return ctypes.get_errno() == errno.EINVAL


def _sigcont_pending(pid: int) -> bool:
    """Whether a SIGCONT is pending for ``pid`` (for the thread or the whole group)."""
    try:
        status = read_pid(pid)
    except ProcessNotFoundError:
        return False  # dying: the next wait reports it
    pending = (status.sig_pending or 0) | (status.shared_pending or 0)
    return bool(pending & _SIGCONT_BIT)


class _SignalForwarding:
    """While the command runs: ignore SIGINT/SIGQUIT, forward SIGTERM/SIGHUP to the command."""

    _IGNORED = (signal.SIGINT, signal.SIGQUIT)
    _FORWARDED = (signal.SIGTERM, signal.SIGHUP)

    def __init__(self, trace: _Trace) -> None:
        self._trace = trace
        self._previous: dict[int, object] = {}

    def __enter__(self) -> None:
        # Handlers can only be set from the main thread; elsewhere the caller's own apply.
        if threading.current_thread() is not threading.main_thread():
            return
        wanted = [(s, self._ignore) for s in self._IGNORED]
        wanted += [(s, self._forward) for s in self._FORWARDED]
        for signum, handler in wanted:
            previous = signal.getsignal(signum)
            if previous is None:
                # A handler installed from C (an embedding application): Python
                # cannot reinstall it, so replacing it would lose it for good.
                # Leave it in charge of this signal, as it would be without us.
                continue
            signal.signal(signum, handler)
            self._previous[signum] = previous

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    def _ignore(self, signum: int, frame: Optional[FrameType]) -> None:
        """The terminal sends these to the whole foreground group, the command included."""

    def _forward(self, signum: int, frame: Optional[FrameType]) -> None:
        if self._trace.reaped:  # its pid may already belong to another process
            return
        with contextlib.suppress(ProcessLookupError):  # it just ended: nothing to forward
            os.kill(self._trace.pid, signum)


def _child_failure(command: tuple[str, ...], errors_read: int, status: int) -> Exception:
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
        return _CannotExecuteError(OSError(code, os.strerror(code), command[0]))
    return PeakTraceError(
        errno.ECHILD, f"the command ended before it started (wait status {status:#x})"
    )
