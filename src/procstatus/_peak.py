"""Resetting the peak RSS (VmHWM) and measuring the peak of one block of code.

Since Linux 4.0 writing ``5`` to /proc/PID/clear_refs resets the high-water
mark of the process's mm to its current RSS (fs/proc/task_mmu.c,
clear_refs_write -> reset_mm_hiwater_rss in include/linux/mm.h). VmHWM then
becomes a measuring tool: reset, run something, read VmHWM again.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import inspect
import os
import threading
from collections.abc import AsyncGenerator, Callable, Generator, Iterator
from types import TracebackType
from typing import Any, Optional, TypeVar, Union

from ._errors import (
    PeakResetUnavailableError,
    ProcfsFileError,
    ProcfsPermissionError,
)
from ._procfs import check_id, list_tids, path, root_str, translate, write_file
from ._read import read_memory

__all__ = ["PeakWindow", "reset_peak", "track_peak"]

_F = TypeVar("_F", bound=Callable[..., object])

_PROC = "/proc"

# The windows currently open in this process, oldest first. A reset of the
# peak (by any window, or by reset_peak() of our own pid) first folds the
# VmHWM it is about to erase into every one of them, so that no reset can
# hide a peak from a window that was already open.
_lock = threading.Lock()
_open: list[PeakWindow] = []


def _after_fork_in_child() -> None:
    # The child has a new mm: the parent's windows do not measure it, and the
    # lock may have been held by a thread that does not exist in the child.
    global _lock  # noqa: PLW0603 - a fresh lock is the only safe one after fork
    _lock = threading.Lock()
    _open.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def reset_peak(pid: Optional[int] = None, *, root: Union[str, os.PathLike[str]] = _PROC) -> None:
    """Reset the peak RSS (VmHWM) of process ``pid`` (default: this process) to its current RSS.

    Writes ``5`` to ``<root>/<pid>/clear_refs``. Raises ProcessNotFoundError when
    the process is gone, ProcfsPermissionError when this user may not write the
    file (only the owner of the process, or root, may), PeakResetUnavailableError
    when the kernel cannot (older than 4.0, or no CONFIG_PROC_PAGE_MONITOR), and
    ProcfsNotFoundError when ``root`` is missing, not a directory or holds no
    process directories. See docs/peak.md.
    """
    # The same checks as the read functions: only a pid that is a non-negative
    # int, and a non-empty str root, ever become part of the path.
    target = os.getpid() if pid is None else check_id(pid, "pid")
    root = root_str(root)
    if _resets_own_peak(target, root):
        with _lock:
            _fold_into_open_windows()
            _write_clear_refs(target, root)
    else:
        _write_clear_refs(target, root)


def _resets_own_peak(pid: int, root: str) -> bool:
    """Whether ``<root>/<pid>/clear_refs`` is the one of this process's own mm."""
    # Same directory as /proc (also through a symlink, a trailing slash or a bind
    # mount: samefile compares device and inode), and a pid that is this process
    # or one of its threads: /proc/<tid> of any thread resets the one shared mm.
    try:
        if not os.path.samefile(root, _PROC):
            return False
    except OSError:
        return False  # no such root: the write reports it
    if pid == os.getpid():
        return True
    try:
        return pid in list_tids(_PROC, os.getpid())
    except OSError:
        return False


def _write_clear_refs(pid: int, root: str) -> None:
    file_path = path(root, pid, "clear_refs")
    try:
        write_file(root, pid, "clear_refs", b"5")
    except OSError as exc:
        code = exc.errno
        if isinstance(exc, ProcfsFileError):
            raise
        if code in (errno.EPERM, errno.EACCES):
            raise _not_allowed(pid, file_path, code) from None
        if code == errno.EINVAL:
            # Kernels before 4.0 reject any type above CLEAR_REFS_SOFT_DIRTY (4).
            raise _unavailable(pid, file_path, errno.EINVAL, "the kernel rejects '5'") from None
        if code == errno.ENOENT and os.path.isdir(path(root, pid, "")):
            # The process is there but the file is not: proc/base.c only creates
            # clear_refs under CONFIG_PROC_PAGE_MONITOR.
            raise _unavailable(pid, file_path, errno.ENOENT, "no clear_refs file") from None
        # A missing, non-directory or empty root, or a process that is gone
        # (ESRCH from the write: get_proc_task() failed after the open): as the
        # read functions report them.
        raise translate(exc, file_path, root, pid, None) from None


def _unavailable(pid: int, path: str, code: int, why: str) -> PeakResetUnavailableError:
    return PeakResetUnavailableError(
        code,
        f"cannot reset the peak RSS of process {pid}: {why} "
        "(needs Linux 4.0 or later built with CONFIG_PROC_PAGE_MONITOR)",
        path,
    )


def _not_allowed(pid: int, path: str, code: Optional[int]) -> ProcfsPermissionError:
    return ProcfsPermissionError(
        errno.EACCES if code is None else code,
        f"not allowed to reset the peak RSS of process {pid} "
        "(only its owner or root may write clear_refs)",
        path,
    )


def _own_memory() -> tuple[int, int]:
    """(VmRSS, VmHWM) of this process, in bytes."""
    pid = os.getpid()
    memory = read_memory(pid)
    if memory is None or memory.rss is None or memory.peak_rss is None:
        # Only kernel threads and zombies lack these lines; we are neither.
        raise PeakResetUnavailableError(
            errno.ENODATA, f"no VmRSS/VmHWM in the status of process {pid}"
        )
    return memory.rss, memory.peak_rss


def _fold_into_open_windows() -> None:
    # Called with _lock held, just before a reset of our own VmHWM.
    if _open:
        _, hwm = _own_memory()
        for window in _open:
            window._fold(hwm)


class PeakWindow:
    """The peak RSS of this process over one window of time: what :func:`track_peak` returns.

    As a context manager, the figures are those of the ``with`` block. As a
    decorator, every call runs in a fresh window; this object then shows the
    figures of the most recently finished call, and ``callback`` (if given)
    receives each call's own window.
    """

    def __init__(self, callback: Optional[Callable[[PeakWindow], None]] = None) -> None:
        self._callback = callback
        self._active = False
        self._failed = False  # the last exit could not read VmHWM
        self._peak: Optional[int] = None
        self._rss_before: Optional[int] = None
        self._rss_after: Optional[int] = None

    @property
    def rss_before(self) -> int:
        """VmRSS right after entry (bytes)."""
        return self._figure(self._rss_before, "rss_before")

    @property
    def rss_after(self) -> int:
        """VmRSS at exit (bytes)."""
        return self._figure(self._rss_after, "rss_after")

    @property
    def peak_rss(self) -> int:
        """The highest RSS of the whole process during the window (bytes)."""
        return self._figure(None if self._active else self._peak, "peak_rss")

    @property
    def peak_increase(self) -> int:
        """``peak_rss - rss_before``: how much more the window needed at its worst (bytes)."""
        return self.peak_rss - self.rss_before

    def _figure(self, value: Optional[int], name: str) -> int:
        if value is None:
            if self._active:
                when = "still open"
            elif self._failed:
                when = "closed without reading VmHWM"
            else:
                when = "not entered yet"
            raise RuntimeError(f"PeakWindow.{name} is not known: the window is {when}")
        return value

    def _fold(self, hwm: int) -> None:
        if self._peak is None or hwm > self._peak:
            self._peak = hwm

    def __enter__(self) -> PeakWindow:
        with _lock:  # checked under the lock: two threads cannot both enter one window
            if self._active:
                raise RuntimeError("this PeakWindow is already open; use a new track_peak()")
            _fold_into_open_windows()
            _write_clear_refs(os.getpid(), _PROC)
            rss, hwm = _own_memory()
            self._rss_before, self._rss_after, self._peak = rss, None, hwm
            self._failed = False
            self._active = True
            _open.append(self)
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        with _lock:
            try:
                rss, hwm = _own_memory()
                self._fold(hwm)
                self._rss_after = rss
            except BaseException:
                # The peak at exit is unknown: have no figures rather than wrong ones.
                self._failed = True
                self._peak = None
                raise
            finally:
                # Closed whatever happens, or later resets would keep folding into it.
                self._active = False
                if self in _open:  # gone after a fork in the child: see _after_fork_in_child
                    _open.remove(self)
        if self._callback is not None:
            self._callback(self)

    def __call__(self, func: _F) -> _F:
        # Strategy: the window must cover the body, which for a coroutine or a
        # generator function does not run in the call that creates it: an
        # ``async def`` runs when awaited, a generator as it is iterated. So each
        # kind gets a wrapper of the same kind, whose window opens when the body
        # starts and closes when it returns, raises or is closed. A plain
        # function's window is the call itself.
        if inspect.iscoroutinefunction(func):
            wrapper: Callable[..., object] = self._wrap_coroutine(func)
        elif inspect.isasyncgenfunction(func):
            wrapper = self._wrap_async_generator(func)
        elif inspect.isgeneratorfunction(func):
            wrapper = self._wrap_generator(func)
        else:
            wrapper = self._wrap_function(func)
        return functools.wraps(func)(wrapper)  # type: ignore[return-value]

    def _wrap_function(self, func: Callable[..., object]) -> Callable[..., object]:
        def wrapper(*args: object, **kwargs: object) -> object:
            with self._call_window():
                return func(*args, **kwargs)

        return wrapper

    def _wrap_coroutine(self, func: Callable[..., Any]) -> Callable[..., object]:
        async def wrapper(*args: object, **kwargs: object) -> object:
            with self._call_window():
                return await func(*args, **kwargs)

        return wrapper

    def _wrap_generator(self, func: Callable[..., Any]) -> Callable[..., object]:
        def wrapper(*args: object, **kwargs: object) -> Generator[object, object, object]:
            # Nothing runs until the first next(), as with the generator itself;
            # yield from passes send(), throw() and close() through.
            with self._call_window():
                return (yield from func(*args, **kwargs))

        return wrapper

    def _wrap_async_generator(self, func: Callable[..., Any]) -> Callable[..., object]:
        async def wrapper(*args: object, **kwargs: object) -> AsyncGenerator[object, object]:
            # An async generator has no "yield from": asend(), athrow() and
            # aclose() are passed through by hand.
            with self._call_window():
                inner: AsyncGenerator[object, object] = func(*args, **kwargs)
                try:
                    value = await inner.__anext__()
                    while True:
                        try:
                            sent = yield value
                        except GeneratorExit:
                            raise  # the finally below closes the inner generator
                        except BaseException as error:  # thrown in by athrow(): pass it on
                            value = await inner.athrow(error)
                        else:
                            value = await inner.asend(sent)
                except StopAsyncIteration:
                    return
                finally:
                    await inner.aclose()

        return wrapper

    @contextlib.contextmanager
    def _call_window(self) -> Iterator[PeakWindow]:
        """A fresh window for one call; this object shows its figures once it closes."""
        window = PeakWindow(self._callback)
        try:
            with window:
                yield window
        finally:
            if window._rss_after is not None:
                with _lock:
                    self._rss_before = window._rss_before
                    self._rss_after = window._rss_after
                    self._peak = window._peak

    def __repr__(self) -> str:
        if self._active:
            return f"<PeakWindow open rss_before={self._rss_before}>"
        if self._rss_after is None:
            return "<PeakWindow not entered>"
        return (
            f"<PeakWindow rss_before={self._rss_before} peak_rss={self._peak} "
            f"rss_after={self._rss_after}>"
        )


def track_peak(callback: Optional[Callable[[PeakWindow], None]] = None) -> PeakWindow:
    """Measure the peak RSS of this process over a ``with`` block or a decorated function.

    Resets VmHWM on entry (so an earlier peak does not leak in) and reads it at
    exit; nested and overlapping windows each keep their own peak. Raises
    PeakResetUnavailableError on entry where the reset is not available.
    See docs/peak.md for what is measured with threads.
    """
    return PeakWindow(callback)
