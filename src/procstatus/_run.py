"""``run_command`` / ``procstatus run``: follow a command's whole process tree, exactly.

What is measured (docs/peak.md says it for users):

- **Each process's peak**: VmHWM of its address space (mm), read at the
  PTRACE_EVENT_EXIT stop of its last thread. do_exit() reports that event before
  exit_mm() drops the mm (kernel/exit.c), so /proc/PID/task/TID/status still
  shows the final high-water mark, and once every other thread is past its own
  exit stop nothing can raise it any more. Nothing about one process is sampled.
  The figure is that of the program the process ran last: an execve() frees the
  old mm inside the kernel with no stop in between (fs/exec.c exec_mmap), and
  for a forked child the image before its execve is a copy of its parent, which
  is not the child's own memory (the ``ru_maxrss`` pollution, docs/peak.md).
- **The tree's bound** (``tree_peak_rss_bound``): every process image is an
  interval of time with a value (its exact peak, or for an image replaced by
  execve the highest VmHWM read from it); the bound is the highest sum of the
  values of intervals that overlap. Births are placed at the last moment the
  tracer had seen no event (before the fork could have happened), deaths where
  the tracer saw them (after the memory was freed), so every interval covers the
  real one and the sum is an upper bound of the tree's simultaneous RSS.
- **The tree's sampled figure** (``tree_peak_rss_sampled``): the highest sum of
  VmRSS over the live processes actually read, every ``interval`` and after
  batches of fork, exec and exit events (see below for how often). A lower
  bound. Every value in a sample is at most the value of its interval in the
  bound (VmHWM >= VmRSS in one read, and the reading joins the value), so bound
  >= sampled always.

# Strategy

**PTRACE_SEIZE, not PTRACE_TRACEME.** The child waits on a pipe; the parent
seizes it with the options in the same call (no window in which it runs with
half the options), then lets it exec. Four reasons, all from man 2 ptrace and
kernel/ptrace.c, kernel/signal.c:

1. *Group stops.* A TRACEME tracee in a group stop (Ctrl-Z, SIGSTOP) cannot be
   left stopped and still be woken by SIGCONT: the tracer must poll for the
   SIGCONT and resume it by hand, once per thread of every process of the tree.
   A seized tracee reports a group stop as PTRACE_EVENT_STOP; PTRACE_LISTEN
   leaves it stopped *and* lets SIGCONT wake it, which the kernel reports as a
   PTRACE_EVENT_STOP with SIGTRAP (kernel/signal.c ptrace_trap_notify,
   do_jobctl_trap). Job control works for the whole tree without polling.
2. *New children.* Children auto-attached by PTRACE_O_TRACEFORK/VFORK/CLONE
   inherit PT_SEIZED (kernel/ptrace.c ptrace_init_task) and start with a
   PTRACE_EVENT_STOP trap instead of a SIGSTOP that looks like a real one.
3. *Detaching.* A process still running when the command is done must be let go
   running. PTRACE_DETACH needs a ptrace-stop; only PTRACE_INTERRUPT (seized
   tracees only) makes one without sending the process a signal of its own.
4. *Privilege.* Both need the same permission for a child: Yama ptrace_scope 0
   or 1 as any user (the tracer is an ancestor), 2 with CAP_SYS_PTRACE, never 3
   (security/yama/yama_lsm.c yama_ptrace_access_check, yama_ptrace_traceme).

Options: PTRACE_O_TRACEFORK | TRACEVFORK | TRACECLONE | TRACEEXEC | TRACEEXIT
| EXITKILL. No syscall stops: only fork, vfork, clone, exec, exit and signals
stop the tree. EXITKILL (Linux 3.8) makes the kernel SIGKILL every tracee if
procstatus dies, so a killed procstatus leaves nothing stopped; auto-attached
tracees inherit it with the other options.

**The fork and Ctrl-C.** The tracer object (the guard) exists before the fork,
and SIGINT, SIGQUIT, SIGTERM, SIGHUP and SIGCHLD are blocked in the calling
thread from before the fork until the signal handlers of the run are in place,
so an interrupt cannot land between the fork and the guard. Should an exception
still strike there (a signal caught by another thread, a warning turned into an
error inside ``os.fork``), the child has written its pid to the report pipe
first thing and runs nothing until it reads a go byte: closing the go pipe
makes it exit, and the pid read back lets the guard reap it.

**Waiting without slowing the tree.** The tracer thread blocks SIGCHLD and
sleeps in sigtimedwait() until the next sample is due; a ptrace stop or death
sends SIGCHLD to the tracer (kernel/signal.c do_notify_parent_cldstop,
do_notify_parent), so it wakes at once. Then it drains every ready status: a
WNOWAIT peek (waitid P_ALL with __WALL | __WNOTHREAD) names the next ready
task, and waitpid() on that pid takes it. Taking only known tasks (or new
tracees, recognised by their TracerPid: the id of the tracing thread, which is
not the process's from another thread) leaves the caller's other children to
the caller. Every stopped tracee waits for the tracer, so it does as little as
it can before resuming it: at an exit stop it reads the status text (the one
thing that needs the stop) and parses it after; the arguments of a new program
are read after its exec stop is resumed (or at its exit stop if that comes
first); samples are taken after the batch of stops is resumed, only for
batches with a fork, an exec or an exit, at most one per tenth of the interval
and never when the last sample ended less than eight of its durations ago (so
that sampling takes at most a ninth of the tracer's time). Busy-waiting instead
of sleeping was measured: on two shared cores it made the tree twice as slow.
Fallbacks, each slower but correct: when SIGCHLD is ignored (SIG_IGN, or a
handler installed from C that may have SA_NOCLDSTOP) the kernel sends no
SIGCHLD for stops, and the tracer polls with short sleeps; when other threads
exist, one of them may take a SIGCHLD, and the tracer waits at most 2 ms;
when a child of the calling thread that is not ours is ready (an unreaped
zombie of the caller), it hides the rest from the peek, and every known task is
polled in turn.

**Threads** are traced too (PTRACE_O_TRACECLONE cannot be had for processes
only): they stop at creation and exit, never otherwise. A non-leader thread
that calls execve takes over the leader's pid; its PTRACE_EVENT_EXEC stop
reports the former tid (man 2 ptrace, "execve(2) under ptrace"), and the old
tid is never reported dead. A child of clone(CLONE_VM) without CLONE_THREAD or
CLONE_VFORK shares its parent's mm but is a process of its own: nothing tells
the tracer so, and both sums count that memory once per process (docs/peak.md,
Limits); only a vfork child is known to share until it execs.

**Whatever happens, nothing is left behind.** On any exception every known
process of the tree is SIGKILLed and every tracee resumed until it is gone; the
command, our only real child, is reaped. When the command has been reaped and
``wait_all`` is false, every remaining tracee is PTRACE_INTERRUPTed and
PTRACE_DETACHed at its next stop (with the signal it was stopping for), so it
goes on running (or stays in a job-control stop it was in), untraced. One
exception: a leader that has exited while other threads of its process run is a
zombie that never stops again (PTRACE_INTERRUPT fails with ESRCH) and whose
death is reported only with the last thread's (kernel/exit.c
delay_group_leader). It is dropped from the tasks, its threads are detached and
its process is reported running; the zombie stays linked to the tracer until
the tracer waits for it or ends (docs/peak.md, Limits). A tid that is never
reported (a thread killed in the middle of an exec event) is found by polling
each task: waitpid() says ECHILD for it.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import signal
import threading
import time
import types
from collections.abc import Mapping, Sequence
from types import FrameType
from typing import Any, Callable, NoReturn, Optional, Union

import attrs

from ._errors import PeakTraceError, ProcessNotFoundError, StatusParseError
from ._json import _text as _valid_text
from ._parse import parse_memory, parse_status
from ._procfs import path as _procfs_path
from ._procfs import read_file

__all__ = ["ProcessRun", "RunResult", "TreeSample", "run_command"]

# include/uapi/linux/ptrace.h
_PTRACE_CONT = 7
_PTRACE_DETACH = 17
_PTRACE_GETEVENTMSG = 0x4201
_PTRACE_SEIZE = 0x4206
_PTRACE_INTERRUPT = 0x4207
_PTRACE_LISTEN = 0x4208
_PTRACE_O_TRACEFORK = 0x2
_PTRACE_O_TRACEVFORK = 0x4
_PTRACE_O_TRACECLONE = 0x8
_PTRACE_O_TRACEEXEC = 0x10
_PTRACE_O_TRACEEXIT = 0x40
_PTRACE_O_EXITKILL = 1 << 20  # every tracee is SIGKILLed if we die (Linux 3.8)
_OPTIONS = (
    _PTRACE_O_TRACEFORK
    | _PTRACE_O_TRACEVFORK
    | _PTRACE_O_TRACECLONE
    | _PTRACE_O_TRACEEXEC
    | _PTRACE_O_TRACEEXIT
    | _PTRACE_O_EXITKILL
)
_PTRACE_EVENT_FORK = 1
_PTRACE_EVENT_VFORK = 2
_PTRACE_EVENT_CLONE = 3
_PTRACE_EVENT_EXEC = 4
_PTRACE_EVENT_EXIT = 6
_PTRACE_EVENT_STOP = 128
# include/uapi/linux/wait.h: any kind of child (clone or not, thread or not), and
# only the calling thread's children and tracees (not those of the caller's other
# threads, which may be following commands of their own).
_WALL = 0x40000000
_WNOTHREAD = 0x20000000
_TAKE = os.WNOHANG | _WALL | _WNOTHREAD
_PEEK = os.WEXITED | os.WSTOPPED | os.WNOHANG | os.WNOWAIT | _WALL | _WNOTHREAD

# Exit statuses of the child when it cannot become the command, as a shell and
# env(1) use them: 125 our own failure, 126 found but not runnable, 127 not found.
_STATUS_TRACE_FAILED = 125
_STATUS_CANNOT_RUN = 126
_STATUS_NOT_FOUND = 127

_STOP_SIGNALS = frozenset({signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU})
# Blocked from before the fork until the run's handlers are in place (see Strategy).
_GUARDED = frozenset({signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP})

# /proc/PID/cmdline holds the argument strings, at most about a quarter of the
# stack limit (fs/exec.c); 4 MiB covers the default 8 MiB stack. Longer ones
# are shown by the process name instead.
_CMDLINE_LIMIT = 1 << 22

# A batch of events that changed the tree's memory gets a sample of its own unless
# the last sample was taken less than this part of the interval ago, or ended less
# than this many of its own durations ago (then sampling takes at most 1 / (1 + 8)
# of the tracer's time, which is time every stopped tracee waits for).
_EVENT_SAMPLE_GAP = 0.1
_SAMPLE_SPACING = 8.0
# How long the tracer sleeps at most when a SIGCHLD may be missed (see Strategy).
_SHORT_WAIT = 0.002
_POLL_MIN = 0.0001
_SIGCHLD_SET = frozenset({signal.SIGCHLD})


@attrs.frozen(kw_only=True)
class ProcessRun:
    """One process of the command's tree, as :func:`run_command` followed it.

    Threads are not listed: they share their process's memory and entry.
    """

    #: Process id (the thread group id).
    pid: int
    #: Parent process id when procstatus first saw it.
    ppid: int
    #: The arguments of the program it last executed; ``(name,)`` if it never did.
    argv: tuple[str, ...]
    #: VmHWM of the program it ran last, in bytes: read at its last thread's exit
    #: stop (exact), or for a process still running, at the moment procstatus let
    #: it go (its peak so far). None when nothing could be read.
    peak_rss: Optional[int]
    #: False when ``peak_rss`` is not the final figure: the exit stop was missed
    #: and it is the highest VmHWM read before it, or the process is still running
    #: (its peak so far).
    peak_exact: bool
    #: Exit status, or 128 + the signal number when a signal killed it; None while running.
    exit_code: Optional[int]
    #: The signal that killed it, else None.
    signal: Optional[int]
    #: Seconds from the start of the command (just before the fork) to when it
    #: appeared, and to when its death was seen (None while running).
    start_s: float
    end_s: Optional[float]
    #: Still running when the report was made: procstatus detached from it.
    running: bool

    def to_json_dict(self) -> dict[str, object]:
        """Plain JSON-ready values; sizes in bytes, times in seconds."""
        return {
            "pid": self.pid,
            "ppid": self.ppid,
            "argv": _json_words(self.argv),
            "peak_rss": self.peak_rss,
            "peak_exact": self.peak_exact,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "running": self.running,
        }


@attrs.frozen(kw_only=True)
class TreeSample:
    """One sample of the command's live tree."""

    #: Seconds since the command started (just before the fork).
    elapsed_s: float
    #: pid -> VmRSS in bytes, for each live process of the tree that was read.
    rss: Mapping[int, int]
    #: pid -> Pss in bytes (from smaps_rollup) when ``pss=True``, else None.
    pss: Optional[Mapping[int, int]]

    @property
    def rss_sum(self) -> int:
        """The sum of ``rss``: counts shared pages once in every process that maps them."""
        return sum(self.rss.values())

    @property
    def pss_sum(self) -> Optional[int]:
        """The sum of ``pss`` (None without PSS): each shared page divided among its users."""
        return None if self.pss is None else sum(self.pss.values())


@attrs.frozen(kw_only=True)
class RunResult:
    """What :func:`run_command` measured: the command, each process of its tree, the tree."""

    #: The command as given.
    argv: tuple[str, ...]
    #: Process id the command ran as.
    pid: int
    #: The largest exact per-process peak of the tree (bytes): the most memory the
    #: command needed in one address space. For a single process, its own VmHWM.
    peak_rss: int
    #: The process that had ``peak_rss``.
    peak_pid: int
    #: Wall-clock seconds from just before the fork to the command's death.
    wall_s: float
    #: The exit status, or 128 + the signal number when a signal killed it (shell convention).
    exit_code: int
    #: The signal that killed the command, else None.
    signal: Optional[int] = None
    #: False when ``peak_rss`` is a reading taken before the process's final exit
    #: stop: that stop was missed, or the process was let go running (see
    #: ProcessRun.peak_exact).
    peak_exact: bool = True
    #: An upper bound of the tree's simultaneous RSS: the highest sum of the peaks of
    #: processes alive at one moment (from births, deaths and exact peaks).
    tree_peak_rss_bound: int = 0
    #: The highest sum of VmRSS over the tree's live processes seen in one sample
    #: (a lower bound). Both sums count shared pages in every process mapping them.
    tree_peak_rss_sampled: int = 0
    #: The highest sum of PSS seen in one sample, when run with ``pss=True``.
    tree_peak_pss_sampled: Optional[int] = None
    #: Every process of the tree, in order of start; the command first.
    processes: tuple[ProcessRun, ...] = ()
    #: Every sample taken, in order (not part of to_json_dict()).
    samples: tuple[TreeSample, ...] = ()
    #: The sampling interval the run used, in seconds.
    interval_s: float = 0.05

    def to_json_dict(self, *, samples: bool = False) -> dict[str, object]:
        """Plain JSON-ready values; sizes in bytes, times in seconds.

        The samples are left out unless ``samples=True`` (they can be many).
        """
        document: dict[str, object] = {
            "argv": _json_words(self.argv),
            "pid": self.pid,
            "peak_rss": self.peak_rss,
            "peak_pid": self.peak_pid,
            "peak_exact": self.peak_exact,
            "wall_s": self.wall_s,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "tree_peak_rss_bound": self.tree_peak_rss_bound,
            "tree_peak_rss_sampled": self.tree_peak_rss_sampled,
            "tree_peak_pss_sampled": self.tree_peak_pss_sampled,
            "interval_s": self.interval_s,
            "processes": [process.to_json_dict() for process in self.processes],
        }
        if samples:
            document["samples"] = [
                {
                    "elapsed_s": sample.elapsed_s,
                    "rss": {str(pid): size for pid, size in sample.rss.items()},
                    "pss": (
                        None
                        if sample.pss is None
                        else {str(pid): size for pid, size in sample.pss.items()}
                    ),
                }
                for sample in self.samples
            ]
        return document


def _json_words(words: tuple[str, ...]) -> list[str]:
    # Arguments that were not UTF-8 hold lone surrogates (os.fsdecode); JSON text
    # must be valid Unicode, so each becomes U+FFFD, as in every JSON of procstatus.
    return [_valid_text(word) for word in words]


_PtraceFunction = Callable[[int, int, Optional[int], Optional[int]], int]
_ptrace_cache: list[_PtraceFunction] = []


def _ptrace() -> _PtraceFunction:
    # Loaded before the fork. ctypes, json and shlex are imported where they are
    # used, so that `import procstatus` stays cheap for programs that never run a
    # command (docs/performance.md).
    import ctypes

    if not _ptrace_cache:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.ptrace
        function.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        function.restype = ctypes.c_long
        _ptrace_cache.append(function)
    return _ptrace_cache[0]


def _errno() -> int:
    import ctypes

    return ctypes.get_errno()


def run_command(
    argv: Sequence[Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]],
    *,
    interval: float = 0.05,
    pss: bool = False,
    cwd: Union[str, bytes, os.PathLike[str], os.PathLike[bytes], None] = None,
    env: Optional[Mapping[str, str]] = None,
    wait_all: bool = False,
    on_sample: Optional[Callable[[TreeSample], None]] = None,
) -> RunResult:
    """Run ``argv`` (searched on PATH) and follow its whole process tree until it exits.

    Returns each process's exact peak RSS, the tree's bound and sampled totals,
    the wall time and the exit status (docs/peak.md explains every figure).
    ``argv`` is a list of arguments, like :func:`subprocess.run`'s; a ``str`` is a
    ``TypeError``. ``cwd`` and ``env`` work as in :func:`subprocess.run` (PATH is
    searched in ``env`` when given). Every ``interval`` seconds, and at ptrace
    events, the tree's VmRSS is sampled (with ``pss=True`` also the Pss of each
    process, which costs a walk of its page tables); ``on_sample`` is called with
    each :class:`TreeSample`, in the calling thread; an exception it raises stops
    the run. When the command has exited, processes it left running are detached
    and listed as running, unless ``wait_all`` is true: then the run lasts until
    the last process of the tree is gone.

    The command inherits stdin, stdout and stderr. While it runs (from the main
    thread), SIGINT and SIGQUIT are ignored here (the terminal sends them to the
    command too) and SIGTERM and SIGHUP are forwarded to it. Raises
    FileNotFoundError/PermissionError/OSError (``filename`` = ``argv[0]``, or
    ``cwd``) when it cannot be executed, and PeakTraceError when it cannot be
    traced. Whatever is raised, every process of the tree has been killed, and
    the command reaped, first.
    """
    try:
        return _run_traced(
            argv,
            interval=interval,
            pss=pss,
            cwd=cwd,
            env=env,
            wait_all=wait_all,
            on_sample=on_sample,
        )
    except _CannotExecuteError as e:
        raise e.error from None


class _CannotExecuteError(Exception):
    """The child could not exec the command: ``error`` says why (``filename`` = ``argv[0]``).

    A wrapper, so that run_cli tells this apart from an OSError met while following.
    """

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.error = error


def _run_traced(
    argv: Sequence[Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]],
    *,
    interval: float = 0.05,
    pss: bool = False,
    cwd: Union[str, bytes, os.PathLike[str], os.PathLike[bytes], None] = None,
    env: Optional[Mapping[str, str]] = None,
    wait_all: bool = False,
    on_sample: Optional[Callable[[TreeSample], None]] = None,
) -> RunResult:
    plan = _Plan.build(argv, cwd, env)
    interval = _check_interval(interval)
    tracer = _Tracer(plan, interval=interval, pss=bool(pss), wait_all=bool(wait_all))
    tracer.on_sample = on_sample
    ptrace = _ptrace()  # loaded before the fork: the child must not load anything
    caller_mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])  # only read it
    try:
        # Inside the try: an interrupt that was already on its way when the mask
        # changed is raised right after this call, and the mask is restored.
        signal.pthread_sigmask(signal.SIG_BLOCK, _GUARDED | {signal.SIGCHLD})
        try:
            tracer.start(ptrace, caller_mask)
            with _SignalForwarding(tracer):
                try:
                    # The handlers are in place: SIGINT etc. may come now; SIGCHLD
                    # stays blocked for sigtimedwait().
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, _GUARDED - caller_mask)
                    tracer.follow()
                except BaseException:
                    signal.pthread_sigmask(signal.SIG_BLOCK, _GUARDED)
                    tracer.abort()
                    raise
        except BaseException:
            if not tracer.aborting:  # not yet done by the handler inside
                tracer.abort()
            raise
        if not tracer.command.execed:
            raise tracer.child_failure()
        return tracer.result()
    finally:
        tracer.close()
        signal.pthread_sigmask(signal.SIG_SETMASK, caller_mask)
        _pass_on_sigchld(tracer.sigchld_taken)


def _check_interval(interval: object) -> float:
    if isinstance(interval, bool) or not isinstance(interval, (int, float)):
        raise TypeError(f"interval must be a number of seconds, not {type(interval).__name__}")
    value = float(interval)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"interval must be a positive number of seconds, not {interval!r}")
    return value


def _pass_on_sigchld(taken: bool) -> None:
    """Raise a SIGCHLD for the caller's own handler if ours may have swallowed one."""
    if not taken or threading.current_thread() is not threading.main_thread():
        return
    handler = signal.getsignal(signal.SIGCHLD)
    if callable(handler):
        # Handlers of SIGCHLD reap in a loop, so one more call is harmless, and one
        # of the SIGCHLDs sigtimedwait() took may have been for the caller's child.
        signal.raise_signal(signal.SIGCHLD)


@attrs.frozen
class _Plan:
    """The command, checked and converted before the fork (the child must not fail on it)."""

    argv: tuple[str, ...]
    cwd: Union[str, bytes, None]
    env: Optional[dict[str, str]]

    @classmethod
    def build(cls, argv: object, cwd: object, env: object) -> _Plan:
        if isinstance(argv, (str, bytes, os.PathLike)):
            raise TypeError(
                "run_command takes the command as a list of arguments, "
                f"e.g. ['ls', '-l'], not a {type(argv).__name__}"
            )
        if not isinstance(argv, Sequence):
            raise TypeError(f"argv must be a sequence of arguments, not {type(argv).__name__}")
        command = tuple(os.fsdecode(os.fspath(arg)) for arg in argv)
        if not command:
            raise ValueError("run_command needs a command to run")
        if any("\0" in arg for arg in command):
            raise ValueError("embedded null byte in an argument")
        directory: Union[str, bytes, None] = None
        if cwd is not None:
            directory = os.fspath(cwd)  # type: ignore[call-overload]
            if "\0" in os.fsdecode(directory):
                raise ValueError("embedded null byte in cwd")
        environment: Optional[dict[str, str]] = None
        if env is not None:
            if not isinstance(env, Mapping):
                raise TypeError(f"env must be a mapping, not {type(env).__name__}")
            environment = {}
            for key, value in env.items():
                name, text = os.fsdecode(key), os.fsdecode(value)
                if not name or "=" in name:
                    raise ValueError(f"illegal environment variable name: {name!r}")
                if "\0" in name or "\0" in text:
                    raise ValueError("embedded null byte in the environment")
                environment[name] = text
        return cls(command, directory, environment)


def _child(
    plan: _Plan, go_read: int, go_write: int, report_read: int, report_write: int, mask: set[int]
) -> NoReturn:  # pragma: no cover - runs in the forked child
    code = _STATUS_TRACE_FAILED
    try:
        os.close(go_write)
        os.close(report_read)
        # First thing: so that a parent that lost the pid can still reap us.
        os.write(report_write, b"P%d\n" % os.getpid())
        # Nothing runs until the parent has seized us; EOF means it gave up.
        if os.read(go_read, 1) != b"g":
            os._exit(_STATUS_TRACE_FAILED)
        os.close(go_read)
        # Python ignores SIGPIPE and SIGXFSZ; a command expects the defaults (subprocess
        # restores them the same way). Ignored dispositions would survive execve.
        for signum in (signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(signum, signal.SIG_DFL)
        if plan.cwd is not None:
            try:
                os.chdir(plan.cwd)
            except OSError as e:
                os.write(report_write, b"C%d\n" % (e.errno or 0))
                os._exit(_STATUS_TRACE_FAILED)
        # The blocked mask survives execve: give the command the caller's.
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        try:
            if plan.env is None:
                os.execvp(plan.argv[0], plan.argv)  # noqa: S606 - an argv list, no shell
            else:
                os.execvpe(plan.argv[0], plan.argv, plan.env)  # noqa: S606
        except OSError as e:
            os.write(report_write, b"E%d\n" % (e.errno or 0))
            code = _STATUS_NOT_FOUND if e.errno == errno.ENOENT else _STATUS_CANNOT_RUN
    finally:
        os._exit(code)


class _Task:
    """One traced thread."""

    __slots__ = ("exiting", "process", "tid")

    def __init__(self, tid: int, process: _Process) -> None:
        self.tid = tid
        self.process = process
        #: Seen at its PTRACE_EVENT_EXIT stop: it can no longer touch user memory.
        self.exiting = False


class _Process:
    """What is known about one process of the tree."""

    def __init__(self, pid: int, ppid: int, name: str, *, born: float, seen: float) -> None:
        self.pid = pid
        self.ppid = ppid
        self.name = name
        self.argv: Optional[tuple[str, ...]] = None
        #: Earliest moment it may have existed (for the bound) and when it was seen.
        self.born = born
        self.seen = seen
        self.tasks: dict[int, _Task] = {}
        #: Its memory is counted: false for the command before its exec (a copy of
        #: procstatus) and for a vfork child before its exec (its parent's mm).
        self.counted = True
        self.execed = False
        #: The current image: when it began and the highest VmHWM read from it.
        self.image_start = born
        self.image_reading = 0
        #: Exact VmHWM of the current image, read at its last thread's exit stop.
        self.peak: Optional[int] = None
        #: Closed images: (start, end, value) for the bound.
        self.segments: list[tuple[float, float, int]] = []
        #: Wait status from its death, or from its exit stop when detached there.
        self.status: Optional[int] = None
        self.end: Optional[float] = None
        self.detached = False

    @property
    def alive(self) -> bool:
        return self.end is None and not self.detached

    def value(self) -> int:
        """The current image's value in the bound: its exact peak, else the highest reading."""
        return max(self.peak or 0, self.image_reading)

    def end_image(self, when: float) -> None:
        """The current image's interval in the bound ends at ``when`` (its death)."""
        if self.counted:
            self.segments.append((self.image_start, when, self.value()))

    def replace_image(self, when: float) -> None:
        """An execve: the current image ends, a new one starts with no reading yet."""
        self.end_image(when)
        self.image_start = when
        self.image_reading = 0
        self.peak = None


class _Tracer:
    """Follows the command's tree; the guard that kills and reaps it whatever happens."""

    def __init__(self, plan: _Plan, *, interval: float, pss: bool, wait_all: bool) -> None:
        self.plan = plan
        self.interval = interval
        self.pss = pss
        self.wait_all = wait_all
        self.on_sample: Optional[Callable[[TreeSample], None]] = None
        self.root = "/proc"
        self.me = os.getpid()
        #: The thread that seizes the command and waits for the tree (it is created
        #: and run in one thread). TracerPid names that thread, not its process
        #: (kernel/ptrace.c links a tracee to the task that seized it, and
        #: fs/proc/array.c prints that task's pid): run from another thread, it is
        #: not os.getpid().
        self.tracer_tid = threading.get_native_id()
        self.ptrace: _PtraceFunction = _unloaded
        self.message = _message_buffer()
        #: Processes whose new program's arguments are still to be read.
        self.unread: list[_Process] = []
        #: The batch of events being handled changed the tree's memory: a fork
        #: (a copy of a process), an exec or an exit stop. Worth a sample.
        self.notable = False
        # Pipe ends, -1 once closed.
        self.go_read = self.go_write = self.report_read = self.report_write = -1
        self.report = b""
        self.t0 = time.monotonic()
        self.pid: Optional[int] = None
        self.seized = False
        self.command_reaped = False
        #: The live processes, by pid (every one, dead or alive, is in the history).
        self.processes: dict[int, _Process] = {}
        self.tasks: dict[int, _Task] = {}
        self.history: list[_Process] = []
        #: Tasks adopted before the fork or clone event that created them.
        self.early: set[int] = set()
        self.quiet_at = self.t0
        self.detaching = False
        self.aborting = False
        self.samples: list[TreeSample] = []
        self.best_rss = 0
        self.best_pss = 0
        self.last_sample_end = -math.inf
        self.last_sample_at = -math.inf
        self.last_sample_cost = 0.0
        self.exit_readings: dict[int, int] = {}
        self.sigchld_taken = False
        self.threads_seen = False
        self.sigchld_works = _sigchld_reported()
        self.poll_delay = _POLL_MIN
        self.command_end = self.t0

    # ---- start -----------------------------------------------------------------------

    @property
    def command(self) -> _Process:
        # The history's first entry: once reaped, its pid may be reused in the tree.
        return self.history[0]

    def start(self, ptrace: _PtraceFunction, caller_mask: set[int]) -> None:
        """Fork the child, seize it and let it exec. Runs with the guarded signals blocked."""
        self.ptrace = ptrace
        self.go_read, self.go_write = os.pipe()  # both close on exec
        self.report_read, self.report_write = os.pipe()
        self.t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child execs or exits
            _child(
                self.plan,
                self.go_read,
                self.go_write,
                self.report_read,
                self.report_write,
                caller_mask,
            )
        self.pid = pid
        now = time.monotonic()
        self._close("go_read")
        self._close("report_write")
        command = _Process(pid, self.me, os.path.basename(self.plan.argv[0]), born=now, seen=now)
        command.counted = False  # a copy of procstatus until it execs
        self._add_process(command)
        self._add_task(pid, command)
        if ptrace(_PTRACE_SEIZE, pid, None, _OPTIONS) != 0:
            code = _errno()
            raise PeakTraceError(
                code,
                f"cannot trace the command (ptrace(PTRACE_SEIZE): {os.strerror(code)}); "
                "is ptrace forbidden here (Yama ptrace_scope 3, seccomp) "
                "or is procstatus itself being traced?",
            )
        self.seized = True
        os.write(self.go_write, b"g")
        self._close("go_write")
        self.quiet_at = time.monotonic()

    def _close(self, name: str) -> None:
        fd = getattr(self, name)
        if fd >= 0:
            setattr(self, name, -1)
            os.close(fd)

    def close(self) -> None:
        for name in ("go_read", "go_write", "report_read", "report_write"):
            with contextlib.suppress(OSError):
                self._close(name)

    # ---- the main loop ---------------------------------------------------------------

    def follow(self) -> None:
        """Trace until the command is reaped (and, with wait_all, every process is gone)."""
        next_sample = self.t0 + self.interval
        while True:
            if self._drain():
                self.poll_delay = _POLL_MIN  # (polling only) busy: look again soon
            self._read_cmdlines()
            now = time.monotonic()
            if self.notable and self._event_sample_due(now):
                self._sample(now)
            self.notable = False
            self.exit_readings.clear()
            if self.command_reaped and (not self.wait_all or not self.tasks):
                break
            now = time.monotonic()
            if now >= next_sample:
                self._sample(now)
                next_sample += self.interval
                if next_sample <= now:  # fell behind (a slow sample, a stopped tracer)
                    next_sample = now + self.interval
                continue
            self._wait(next_sample - now)
        if self.tasks:
            self._detach_all()

    def _event_sample_due(self, now: float) -> bool:
        """Whether a batch of notable events gets a sample of its own (see Strategy)."""
        return (
            now - self.last_sample_at >= self.interval * _EVENT_SAMPLE_GAP
            and now - self.last_sample_end >= _SAMPLE_SPACING * self.last_sample_cost
        )

    def _wait(self, timeout: float) -> None:
        """Sleep until a tracee may have something to report, at most ``timeout`` seconds."""
        if not self.sigchld_works:
            # No SIGCHLD for stops: poll, quickly after activity, slower when idle.
            self.poll_delay = min(self.poll_delay * 2, _SHORT_WAIT * 2.5)
            time.sleep(min(timeout, self.poll_delay))
            return
        if self.threads_seen or threading.active_count() > 1:
            # Once there are other threads, assume there may be again (cheaper than
            # counting them on every wait).
            self.threads_seen = True
            timeout = min(timeout, _SHORT_WAIT)
        if signal.sigtimedwait(_SIGCHLD_SET, timeout) is not None:
            self.sigchld_taken = True

    def _drain(self) -> int:
        """Handle every status that is ready; how many there were."""
        handled = 0
        empty_takes = 0
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, _PEEK)
            except ChildProcessError:
                info = None  # no child and no tracee left
            if info is None:
                self.quiet_at = time.monotonic()
                return handled
            tid = info.si_pid
            if tid not in self.tasks and not self._adopt(tid):
                # A child of this thread that is not ours is ready and would hide the
                # others from every peek: ask each known task instead.
                handled += self._poll_each()
                self.quiet_at = time.monotonic()
                return handled
            try:
                waited, status = os.waitpid(tid, _TAKE)
            except ChildProcessError:
                self._vanished(tid)
                continue
            if waited:
                self._on_status(tid, status)
                handled += 1
                empty_takes = 0
                continue
            # Ready for the peek but not for waitpid: a state change between the two.
            # Never spin on it: after a few tries, ask each known task instead.
            empty_takes += 1
            if empty_takes > 3:
                handled += self._poll_each()
                self.quiet_at = time.monotonic()
                return handled

    def _poll_each(self) -> int:
        handled = 0
        progress = True
        while progress:
            progress = False
            for tid in list(self.tasks):
                try:
                    waited, status = os.waitpid(tid, _TAKE)
                except ChildProcessError:
                    self._vanished(tid)
                    continue
                if waited:
                    self._on_status(tid, status)
                    handled += 1
                    progress = True
        return handled

    def _vanished(self, tid: int) -> None:
        """``tid`` is no longer ours to wait for."""
        task = self.tasks.pop(tid, None)
        if task is not None:
            task.process.tasks.pop(tid, None)
        if tid == self.pid and not self.command_reaped:
            # Reaped behind our back: SIGCHLD ignored by a C handler with
            # SA_NOCLDWAIT, or someone else's waitpid(-1). Its pid may be reused now.
            self.command_reaped = True
            raise ChildProcessError(errno.ECHILD, "No child processes")

    # ---- one status ------------------------------------------------------------------

    def _on_status(self, tid: int, status: int) -> None:
        task = self.tasks[tid]
        if os.WIFSTOPPED(status):
            self._on_stop(task, status)
        else:
            self._on_death(task, status)

    def _on_stop(self, task: _Task, status: int) -> None:
        signum = os.WSTOPSIG(status)
        event = status >> 16
        if event == 0:
            # A signal-delivery-stop: deliver the signal (never while aborting).
            self._resume(task, 0 if self.aborting else signum)
        elif event == _PTRACE_EVENT_STOP:
            if signum in _STOP_SIGNALS and not self.aborting:
                self._listen(task)  # a group stop: stay stopped, wake on SIGCONT
            else:
                # A new tracee's first stop, a PTRACE_INTERRUPT, or SIGCONT
                # waking a tracee we had left listening.
                self._resume(task, 0)
        elif event in (_PTRACE_EVENT_FORK, _PTRACE_EVENT_VFORK, _PTRACE_EVENT_CLONE):
            copy = self._on_new(task, self._event_message(task.tid), event)
            self._resume(task, 0)
            if copy is not None:
                self._read_copy(copy)
        elif event == _PTRACE_EVENT_EXEC:
            task = self._on_exec(task, self._event_message(task.tid))
            self._resume(task, 0)
        elif event == _PTRACE_EVENT_EXIT:
            if self.aborting:
                self._resume(task, 0)
            else:
                self._on_exit_stop(task)  # resumes it as soon as it has read what it needs
        else:
            self._resume(task, 0)  # no other event was asked for

    def _event_message(self, tid: int) -> Optional[int]:
        message, address = self.message
        if self.ptrace(_PTRACE_GETEVENTMSG, tid, None, address) != 0:
            return None  # killed meanwhile: the next wait reports it
        return int(message.value)

    def _resume(self, task: _Task, signum: int) -> None:
        if self.detaching:
            self._detach(task, signum)
            return
        # ESRCH: killed meanwhile (SIGKILL ends any stop); the next wait reports it.
        self.ptrace(_PTRACE_CONT, task.tid, None, signum)

    def _listen(self, task: _Task) -> None:
        if self.detaching:
            self._detach(task, 0)  # it stays in its group stop, as it would untraced
            return
        self.ptrace(_PTRACE_LISTEN, task.tid, None, 0)

    def _detach(self, task: _Task, signum: int) -> None:
        process = task.process
        if process.end is None and not task.exiting:
            self._read_running(task)
        self.ptrace(_PTRACE_DETACH, task.tid, None, signum)
        self.tasks.pop(task.tid, None)
        process.tasks.pop(task.tid, None)
        if not process.tasks and process.end is None:
            process.detached = True
            self._gone(process)

    def _on_new(self, parent: _Task, tid: Optional[int], event: int) -> Optional[_Process]:
        """A fork, vfork or clone event of ``parent``: the new task is ours too.

        Returns a new process that is a copy of its parent, to be read.
        """
        if tid is None:
            return None
        copy = None
        task = self.tasks.get(tid)
        if tid in self.early:
            # Adopted when its own first stop came before this event; it may even be
            # gone already. Either way it is registered: never register it twice.
            self.early.discard(tid)
        elif task is None:
            owner = parent.process
            if event == _PTRACE_EVENT_CLONE and self._is_thread_of(owner.pid, tid):
                task = self._add_task(tid, owner)
            else:
                task = self._new_process(tid, owner.pid, owner.name)
                if event != _PTRACE_EVENT_VFORK:
                    self.notable = True
                    copy = task.process
        if task is None:
            return None
        if event == _PTRACE_EVENT_VFORK and task.process is not parent.process:
            # Until it execs, a vfork child runs in its parent's mm: its VmRSS is the
            # parent's, and counting it would count the same pages twice.
            task.process.counted = task.process.execed
        if self.aborting:
            self._kill(task.process)
            return None
        return copy

    def _is_thread_of(self, pid: int, tid: int) -> bool:
        try:
            os.stat(_procfs_path(self.root, pid, "status", tid))
        except OSError:
            return False
        return True

    def _new_process(self, pid: int, ppid: int, name: str) -> _Task:
        """Register a new process (it sits at its first stop, or will)."""
        process = _Process(pid, ppid, name, born=self.quiet_at, seen=time.monotonic())
        self._add_process(process)
        return self._add_task(pid, process)

    def _read_copy(self, process: _Process) -> None:
        """A forked copy of its parent, before it has run: its RSS (the pages copied
        from the parent) is the first reading of its first image, for the bound."""
        try:
            memory = parse_memory(read_file(self.root, process.pid, "status", check_root=False))
        except ProcessNotFoundError:
            return
        if memory is not None and memory.peak_rss is not None:
            process.image_reading = max(process.image_reading, memory.peak_rss)

    def _adopt(self, tid: int) -> bool:
        """Whether ``tid``, ready but unknown, is a new tracee of ours (then registered)."""
        try:
            status = parse_status(read_file(self.root, tid, "status", check_root=False))
        except (OSError, StatusParseError):
            return False
        if status.tracer_pid != self.tracer_tid or status.tgid is None:
            return False
        # Seen before its parent's fork or clone event was handled.
        self.early.add(tid)
        owner = self.processes.get(status.tgid)
        if status.tgid != tid and owner is not None:
            self._add_task(tid, owner)
        elif status.tgid == tid:
            task = self._new_process(tid, status.ppid or 0, _name(status.name, "?"))
            task.process.image_reading = status.peak_rss or 0
            self.notable = True
            if self.aborting:
                self._kill(task.process)
        else:
            return False
        return True

    def _gone(self, process: _Process) -> None:
        """``process`` is dead or let go: no longer sampled, killed or looked up."""
        if self.processes.get(process.pid) is process:
            del self.processes[process.pid]

    def _add_process(self, process: _Process) -> None:
        # A pid may be reused during a long run: the dict finds the live one, the
        # history keeps every one.
        self.processes[process.pid] = process
        self.history.append(process)

    def _add_task(self, tid: int, process: _Process) -> _Task:
        task = _Task(tid, process)
        self.tasks[tid] = task
        process.tasks[tid] = task
        return task

    def _on_exec(self, task: _Task, former: Optional[int]) -> _Task:
        """PTRACE_EVENT_EXEC: a new program image in ``task``'s process."""
        process = task.process
        now = time.monotonic()
        if former is not None and former != task.tid:
            # A thread that was not the leader called execve and now has the leader's
            # tid; its own tid is gone without a death report (man 2 ptrace).
            gone = self.tasks.pop(former, None)
            if gone is not None:
                process.tasks.pop(former, None)
            task.exiting = False
        process.replace_image(now)
        self.notable = True
        process.counted = True
        process.execed = True
        # Read once it runs again (off the path every stopped tracee waits on):
        # after this batch of events, or at its exit stop if that comes first.
        process.argv = None
        self.unread.append(process)
        return task

    def _read_cmdlines(self) -> None:
        for process in self.unread:
            if process.argv is None and process.execed:
                process.argv = self._cmdline(process)
        self.unread.clear()

    def _cmdline(self, process: _Process) -> Optional[tuple[str, ...]]:
        try:
            data = read_file(
                self.root, process.pid, "cmdline", limit=_CMDLINE_LIMIT, check_root=False
            )
        except OSError:
            return None
        if data.endswith(b"\0"):
            data = data[:-1]
        if not data:
            return None
        return tuple(os.fsdecode(arg) for arg in data.split(b"\0"))

    def _on_exit_stop(self, task: _Task) -> None:
        """PTRACE_EVENT_EXIT: read the process's figures while this thread still has the mm."""
        process = task.process
        stopped_at = time.monotonic()
        task.exiting = True
        self.notable = True
        # Exact once every other thread is past its own exit stop: none of them can
        # fault in memory any more (a new thread still at its first stop has not
        # run either).
        last = all(other.exiting for other in process.tasks.values())
        data = None
        if last and (process.counted or process.argv is None):
            # Only the last thread's stop gives the final figure (an earlier one is
            # covered by the samples): a thread pool ending its threads one by one
            # costs no reads.
            data = _read_at_exit(self.root, process.pid, task.tid)
        if process.argv is None and process.execed:
            process.argv = self._cmdline(process)  # exited before it was read
        code = self._event_message(task.tid) if self.detaching else None
        # Everything that needs the stop has been read: let it go on, and make
        # sense of the text while it does.
        self._resume(task, 0)
        figures = None if data is None else _figures_at_exit(data)
        if figures is not None:
            peak, rss, name = figures
            if process.argv is None and name:
                # Never executed a program: listed by its name, perhaps changed
                # since the fork (prctl(PR_SET_NAME)).
                process.name = name
            if process.counted and peak is not None and rss is not None:
                process.image_reading = max(process.image_reading, peak)
                self.exit_readings[process.pid] = rss
                if last:
                    process.peak = peak
                    self._sample_alone(process, rss, stopped_at)
        if self.detaching:
            # Let go at its exit stop: its death will not be reported to us.
            process.status = code
            if last:
                process.end = time.monotonic()
                process.end_image(process.end)
                self._gone(process)

    def _on_death(self, task: _Task, status: int) -> None:
        process = task.process
        self.tasks.pop(task.tid, None)
        process.tasks.pop(task.tid, None)
        if task.tid != process.pid:
            return  # a thread; the leader's death is reported after the last of them
        now = time.monotonic()
        process.status = status
        process.end = now
        process.end_image(now)
        self._gone(process)
        for other in list(process.tasks.values()):  # none expected; never wait for them
            self.tasks.pop(other.tid, None)
        process.tasks.clear()
        if process is self.command:
            self.command_reaped = True
            self.command_end = now

    def _read_running(self, task: _Task) -> None:
        """The peak so far of a process we are about to let go."""
        process = task.process
        if not process.counted:
            return
        try:
            memory = parse_memory(
                read_file(self.root, process.pid, "status", task.tid, check_root=False)
            )
        except ProcessNotFoundError:
            return
        if memory is not None and memory.peak_rss is not None:
            process.peak = max(process.peak or 0, memory.peak_rss)

    # ---- samples ---------------------------------------------------------------------

    def _sample(self, now: float) -> None:
        rss: dict[int, int] = {}
        pss: Optional[dict[int, int]] = {} if self.pss else None
        for process in list(self.processes.values()):
            if not process.counted:
                continue
            tid = _reader_tid(process)
            memory = None
            if tid is not None:
                try:
                    memory = parse_memory(
                        read_file(
                            self.root,
                            process.pid,
                            "status",
                            None if tid == process.pid else tid,
                            check_root=False,
                        )
                    )
                except ProcessNotFoundError:
                    memory = None
            if memory is not None and memory.rss is not None:
                rss[process.pid] = memory.rss
                if memory.peak_rss is not None:
                    process.image_reading = max(process.image_reading, memory.peak_rss)
            elif process.pid in self.exit_readings:
                # Read at its exit stop in this batch, resumed since: that is its
                # last RSS, and its interval in the bound lasts until its death.
                rss[process.pid] = self.exit_readings[process.pid]
            else:
                continue
            if pss is not None:
                value = _read_pss(self.root, process.pid)
                if value is not None:
                    pss[process.pid] = value
        sample = TreeSample(
            elapsed_s=now - self.t0,
            rss=types.MappingProxyType(rss),
            pss=None if pss is None else types.MappingProxyType(pss),
        )
        self._record(sample, now, time.monotonic())

    def _record(self, sample: TreeSample, start: float, end: float) -> None:
        self.samples.append(sample)
        self.best_rss = max(self.best_rss, sample.rss_sum)
        self.best_pss = max(self.best_pss, sample.pss_sum or 0)
        self.last_sample_at = start
        self.last_sample_end = end
        self.last_sample_cost = end - start
        if self.on_sample is not None:
            self.on_sample(sample)

    def _sample_alone(self, process: _Process, rss: int, when: float) -> None:
        """A sample at the exit stop of a process that is the whole tree, if it is the most.

        Alone in the tree, its reading at its exit stop is a sample of the whole
        tree at that moment. A command that lives less than one interval would
        otherwise be known only by the sample at its exec event, taken before
        the new program had run (``run -- true`` gave 12 KiB for a 1.2 MiB peak).
        Recorded only when it raises the best sum: the last figure of a process
        already sampled at its height adds nothing.
        """
        if rss <= self.best_rss or any(
            other.counted and other is not process for other in self.processes.values()
        ):
            return
        self._record(
            TreeSample(
                elapsed_s=when - self.t0,
                rss=types.MappingProxyType({process.pid: rss}),
                pss=None if not self.pss else types.MappingProxyType({}),
            ),
            when,
            when,
        )

    # ---- the end: detach, or abort ---------------------------------------------------

    def _detach_all(self) -> None:
        """Let every remaining tracee go, running as it would untraced."""
        self.detaching = True
        for tid in list(self.tasks):
            # Each one stops at once (a PTRACE_EVENT_STOP), or reports the stop it was
            # already in; either way it is detached when that stop is handled.
            failed = self.ptrace(_PTRACE_INTERRUPT, tid, None, None) != 0
            task = self.tasks[tid]
            if _zombie_leader(task, failed):
                self._let_be(task)
        while self.tasks:
            # _poll_each also forgets a tid that will never be reported (waitpid
            # says ECHILD): a thread killed in the middle of an exec event, say.
            if not self._drain() and not self._poll_each():
                self._wait(_SHORT_WAIT * 5)
        self._read_cmdlines()

    def _let_be(self, task: _Task) -> None:
        """Stop waiting for a leader that has exited while other threads of it run.

        It cannot be detached: past its exit it never stops again (PTRACE_INTERRUPT
        fails with ESRCH, or asks for a stop that never comes: kernel/signal.c
        task_set_jobctl_pending refuses a PF_EXITING task), and its death is
        reported only when the last thread of the process is gone
        (kernel/exit.c delay_group_leader). Its process is let go with the
        other threads, as running; the zombie stays linked to this tracer.
        """
        self.tasks.pop(task.tid, None)
        task.process.tasks.pop(task.tid, None)

    def abort(self) -> None:
        """Kill every process of the tree and wait until each is gone. Never raises."""
        while True:
            try:
                self._abort()
            except KeyboardInterrupt:
                continue  # from another thread's signal: keep cleaning up
            except Exception:  # best effort; the first error is the one raised
                with contextlib.suppress(Exception):
                    self._abort_hard()
            return

    def _abort(self) -> None:
        self.aborting = True
        self.detaching = False
        self._close("go_write")  # a child not yet let go exits before its exec
        self._close("report_write")
        if self.pid is None:
            self.pid = self._pid_from_report()
            if self.pid is None:
                return  # the fork itself failed
            now = time.monotonic()
            lost = _Process(self.pid, self.me, "?", born=now, seen=now)
            self._add_process(lost)
            self._add_task(self.pid, lost)
        if not self.seized:
            self._reap_unseized()
            return
        for process in list(self.processes.values()):
            if process.alive:
                self._kill(process)
        for tid in list(self.tasks):
            self.ptrace(_PTRACE_CONT, tid, None, 0)  # out of any stop, on to its death
        while self.tasks:
            try:
                # _poll_each forgets a tid that will never be reported (see _detach_all).
                if not self._drain() and not self._poll_each():
                    self._wait(_SHORT_WAIT * 5)
            except ChildProcessError:
                continue  # the command was reaped elsewhere; the others are ours

    def _abort_hard(self) -> None:
        """Last resort after an unexpected error: kill what we know, reap the command."""
        for process in list(self.processes.values()):
            self._kill(process)
        if self.pid is not None and not self.command_reaped:
            self._reap_command()

    def _reap_unseized(self) -> None:
        """The child was never traced: it exits on the closed go pipe; reap it."""
        assert self.pid is not None
        if self.command_reaped:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self._reap_command()
        self.tasks.clear()

    def _reap_command(self) -> None:
        """Wait for the killed command's death, letting it go on from any stop.

        It may be traced after all (an interruption right after PTRACE_SEIZE, or
        an error in the middle of following): then it stops at its exit.
        """
        assert self.pid is not None
        with contextlib.suppress(ChildProcessError):
            while True:
                _, status = os.waitpid(self.pid, _WALL)
                if not os.WIFSTOPPED(status):
                    break
                self.ptrace(_PTRACE_CONT, self.pid, None, 0)
        self.command_reaped = True

    def _pid_from_report(self) -> Optional[int]:
        """The child's pid from the report pipe, read to its end (the child exits)."""
        if self.report_read < 0:
            return None
        chunks = []
        while True:
            chunk = os.read(self.report_read, 4096)
            if not chunk:
                break
            chunks.append(chunk)
        self.report += b"".join(chunks)
        for line in self.report.split(b"\n"):
            if line[:1] == b"P" and line[1:].isdigit():
                return int(line[1:])
        return None

    def _kill(self, process: _Process) -> None:
        # Its pid cannot be reused: a tracee stays a zombie until we have waited for it.
        if process.alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)

    # ---- results ---------------------------------------------------------------------

    def child_failure(self) -> Exception:
        """The error for a command that died before its exec: the child wrote why."""
        os.set_blocking(self.report_read, False)
        with contextlib.suppress(BlockingIOError):
            self.report += os.read(self.report_read, 4096)
        status = self.command.status or 0
        for line in self.report.split(b"\n"):
            kind, number = line[:1], line[1:]
            code = int(number) if number.isdigit() else 0
            if kind == b"E" and code:
                return _CannotExecuteError(OSError(code, os.strerror(code), self.plan.argv[0]))
            if kind == b"C" and code:
                cwd = self.plan.cwd
                return _CannotExecuteError(OSError(code, os.strerror(code), cwd))
        return PeakTraceError(
            errno.ECHILD, f"the command ended before it started (wait status {status:#x})"
        )

    def result(self) -> RunResult:
        now = time.monotonic()
        processes = sorted(self.history, key=lambda p: p.seen)
        runs = tuple(self._process_run(process) for process in processes)
        measured = [run for run in runs if run.peak_rss is not None]
        if not measured:
            raise PeakTraceError(
                errno.ESRCH,
                f"process {self.pid} ended without stopping at its exit; no peak was read",
            )
        largest = max(measured, key=lambda run: run.peak_rss or 0)
        segments: list[tuple[float, float, int]] = []
        for process in processes:
            segments.extend(process.segments)
            if process.detached and process.counted and process.end is None:
                segments.append((process.image_start, now, process.value()))
        status = self.command.status or 0
        exit_code, signum = _exit_of(status)
        assert exit_code is not None
        return RunResult(
            argv=self.plan.argv,
            pid=self.command.pid,
            peak_rss=largest.peak_rss or 0,
            peak_pid=largest.pid,
            wall_s=self.command_end - self.t0,
            exit_code=exit_code,
            signal=signum,
            peak_exact=largest.peak_exact,
            tree_peak_rss_bound=_tree_bound(segments),
            tree_peak_rss_sampled=self.best_rss,
            tree_peak_pss_sampled=self.best_pss if self.pss else None,
            processes=runs,
            samples=tuple(self.samples),
            interval_s=self.interval,
        )

    def _process_run(self, process: _Process) -> ProcessRun:
        running = process.end is None
        if process.peak is not None:
            peak: Optional[int] = process.peak
            # Let go running: its peak so far, which it may still raise.
            exact = not running
        elif process.image_reading:
            peak, exact = process.image_reading, False
        else:
            peak, exact = None, False
        exit_code, signum = (None, None) if running else _exit_of(process.status)
        return ProcessRun(
            pid=process.pid,
            ppid=process.ppid,
            argv=process.argv if process.argv is not None else (process.name,),
            peak_rss=peak,
            peak_exact=exact,
            exit_code=exit_code,
            signal=signum,
            start_s=process.seen - self.t0,
            end_s=None if process.end is None else process.end - self.t0,
            running=running,
        )


def _message_buffer() -> tuple[Any, int]:
    """An unsigned long for PTRACE_GETEVENTMSG to fill, and its address."""
    import ctypes

    message = ctypes.c_ulong()
    return message, ctypes.addressof(message)


def _unloaded(request: int, pid: int, addr: Optional[int], data: Optional[int]) -> int:
    raise AssertionError("ptrace used before start()")  # pragma: no cover


def _sigchld_reported() -> bool:
    """Whether the kernel sends SIGCHLD for tracee stops (not when SIGCHLD is ignored)."""
    handler = signal.getsignal(signal.SIGCHLD)
    # SIG_IGN: no SIGCHLD at all for stops (kernel/signal.c do_notify_parent_cldstop).
    # None: installed from C, perhaps with SA_NOCLDSTOP, which has the same effect.
    return handler is not None and handler != signal.SIG_IGN


def _name(name: object, default: str) -> str:
    return name if isinstance(name, str) and name else default


def _zombie_leader(task: _Task, interrupt_failed: bool) -> bool:
    """Whether ``task`` is a leader past its exit whose process still has a running thread."""
    process = task.process
    if task.tid != process.pid or not (task.exiting or interrupt_failed):
        return False
    return any(not other.exiting for other in process.tasks.values() if other is not task)


def _reader_tid(process: _Process) -> Optional[int]:
    """A thread of ``process`` whose status shows the memory: the leader unless it is exiting."""
    leader = process.tasks.get(process.pid)
    if leader is not None and not leader.exiting:
        return process.pid
    for task in process.tasks.values():
        if not task.exiting:
            return task.tid
    return None


def _exit_of(status: Optional[int]) -> tuple[Optional[int], Optional[int]]:
    """(exit code in the shell's convention, signal or None) of a wait status."""
    if status is None:
        return None, None
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        return 128 + signum, signum
    return os.WEXITSTATUS(status), None


def _read_at_exit(root: str, pid: int, tid: int) -> Optional[bytes]:
    """The status text of thread ``tid`` of ``pid`` at its exit stop; None if it is gone."""
    try:
        return read_file(root, pid, "status", None if tid == pid else tid, check_root=False)
    except ProcessNotFoundError:
        return None


def _figures_at_exit(data: bytes) -> tuple[Optional[int], Optional[int], Optional[str]]:
    """(VmHWM, VmRSS, name) from a status text; None for what it does not have."""
    status = parse_status(data)
    name = status.name if isinstance(status.name, str) and status.name else None
    return status.peak_rss, status.rss, name


def _tree_bound(segments: Sequence[tuple[float, float, int]]) -> int:
    """The highest sum of values of intervals that overlap (ends before starts at a tie)."""
    events: list[tuple[float, int, int]] = []
    for start, end, value in segments:
        if value:
            events.append((start, 1, value))
            events.append((end, 0, -value))
    events.sort()
    total = best = 0
    for _, _, delta in events:
        total += delta
        best = max(best, total)
    return best


def _read_pss(root: str, pid: int) -> Optional[int]:
    """Pss of ``pid`` in bytes; None when it has no memory (a zombie) or is gone.

    read_rollup() tells "no memory" (smaps_rollup of a zombie fails with ESRCH
    although the process exists) from "gone"; here both just leave the process
    out of the sample. Imported here: ``import procstatus`` does not load the
    rollup modules.
    """
    from ._read_rollup import read_rollup

    try:
        rollup = read_rollup(pid, root)
    except (ProcessNotFoundError, PermissionError):
        return None
    return None if rollup is None else rollup.pss


class _SignalForwarding:
    """While the command runs: ignore SIGINT/SIGQUIT, forward SIGTERM/SIGHUP to the command."""

    _IGNORED = (signal.SIGINT, signal.SIGQUIT)
    _FORWARDED = (signal.SIGTERM, signal.SIGHUP)

    def __init__(self, tracer: _Tracer) -> None:
        self._tracer = tracer
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
        tracer = self._tracer
        if tracer.pid is None or tracer.command_reaped:  # its pid may belong to another process
            return
        with contextlib.suppress(ProcessLookupError):  # it just ended: nothing to forward
            os.kill(tracer.pid, signum)
