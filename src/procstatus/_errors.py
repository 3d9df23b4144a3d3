"""The exceptions procstatus raises, in one place.

Only these (and the builtins they subclass) escape the public functions; the
documentation page docs/errors.md lists which function raises which.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "Error",
    "FieldTypeError",
    "FieldValueError",
    "PeakResetUnavailableError",
    "PeakTraceError",
    "ProcessNotFoundError",
    "ProcfsFileError",
    "ProcfsNotFoundError",
    "ProcfsPermissionError",
    "RollupParseError",
    "RssLimitExceededError",
    "StatusParseError",
]


class Error(Exception):
    """The base class of every exception procstatus raises.

    Each one also keeps the builtin class it has always had (``ValueError``,
    ``ProcessLookupError``, ``PermissionError``, ``OSError``...), so both
    ``except procstatus.Error`` and ``except ProcessLookupError`` catch it.
    """


def _parse_message(reason: str, line: int, field: Optional[str], text: str) -> str:
    """``line 3 (VmRSS): <reason>: '<text>'``, safe to print.

    The key and the line come from the text, which anyone may have written: both
    are shown as repr() shows them when they hold a control character, so that
    printing the message cannot send an escape sequence to a terminal.
    """
    if field is None:
        where = f"line {line}"
    else:
        where = f"line {line} ({field if field.isprintable() else repr(field)})"
    return f"{where}: {reason}: {text!r}"


class _ParseError(ValueError, Error):
    """A text no kernel writes: what :class:`StatusParseError` and
    :class:`RollupParseError` share (private: catch either, or ``ValueError``).

    ``line`` is the 1-based line number, ``field`` the kernel name of the line
    (``None`` when the line has no key), ``text`` the offending line as read
    and ``reason`` what is wrong with it.
    """

    def __init__(self, reason: str, *, line: int, field: Optional[str], text: str) -> None:
        self.reason = reason
        self.line = line
        self.field = field
        self.text = text
        super().__init__(_parse_message(reason, line, field, text))

    def __reduce__(self) -> tuple[object, ...]:
        # Pickle would call the class with args (the message) alone; the keyword
        # arguments go through _rebuild, with the class of this very error.
        return (_rebuild, (type(self), self.reason, self.line, self.field, self.text))


def _rebuild(
    cls: type[_ParseError], reason: str, line: int, field: Optional[str], text: str
) -> _ParseError:
    return cls(reason, line=line, field=field, text=text)


class StatusParseError(_ParseError):
    """A status text that is not what any kernel writes.

    ``line`` is the 1-based line number, ``field`` the kernel name of the line
    (``None`` when the line has no key), ``text`` the offending line as read
    and ``reason`` what is wrong with it.
    """


class _FieldError(Error):
    """What FieldValueError and FieldTypeError share: ``field`` and ``reason``."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        # A field name may come from anyone (an unknown key given to from_fields):
        # shown as repr() shows it when it holds a control character, as above.
        shown = field if field.isprintable() else repr(field)
        super().__init__(f"{shown}: {reason}")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.field, self.reason))


class FieldValueError(_FieldError, ValueError):
    """A typed value that the kernel could not print on its line, given to
    :meth:`ProcStatus.from_fields` or :meth:`ProcStatus.replace`.

    ``field`` is the kernel name of the line and ``reason`` what is wrong: a
    negative size, a memory size that is not whole kB, an id beyond 32 bits,
    a text that would start another line...
    """


class FieldTypeError(_FieldError, TypeError):
    """A value of the wrong Python type (a bool field given an int, a tuple field
    a list...), or a name that is no field, given to :meth:`ProcStatus.from_fields`
    or :meth:`ProcStatus.replace`. Nothing is converted: ``field`` is the kernel
    name (or the attribute name given), ``reason`` what was expected.
    """


class ProcessNotFoundError(ProcessLookupError, Error):
    """The process (or thread) does not exist, or exited while it was read."""

    def __init__(self, pid: int, tid: Optional[int] = None) -> None:
        self.pid = pid
        self.tid = tid
        what = f"process {pid}" if tid is None else f"thread {tid} of process {pid}"
        super().__init__(f"no such process: {what}" if tid is None else f"no such thread: {what}")

    def __reduce__(self) -> tuple[object, ...]:
        # OSError pickles its args (the message) and calls the class with them,
        # which would take the message for the pid (multiprocessing, for one).
        return (type(self), (self.pid, self.tid))


class ProcfsPermissionError(PermissionError, Error):
    """The status file exists but this user may not read it (or write it, for clear_refs)."""


class ProcfsNotFoundError(FileNotFoundError, Error):
    """The proc root does not exist or is not a directory (no procfs mounted there)."""


class ProcfsFileError(OSError, Error):
    """What stands where a procfs file should be is not one: not a regular file
    (a FIFO, a device, a directory), or longer than anything the kernel writes
    there. Met only under a root that is not a real procfs, such as a
    container's seen from the host or a copied tree: never blocks, never
    reads on without bound. ``errno`` is EINVAL or EFBIG, ``filename`` the path."""


class PeakResetUnavailableError(OSError, Error):
    """The kernel cannot reset the peak RSS: older than Linux 4.0, or built
    without CONFIG_PROC_PAGE_MONITOR (no /proc/PID/clear_refs)."""


class PeakTraceError(OSError, Error):
    """``run_command`` could not follow the command to its exit with ptrace.

    ``errno`` is EPERM when tracing is not permitted: Yama ptrace_scope 3, a
    seccomp filter, or procstatus itself running under a tracer.
    """


class RollupParseError(_ParseError):
    """A smaps_rollup text that is not what any kernel writes.

    The sibling of :class:`StatusParseError`, with the same attributes:
    ``line`` (1-based), ``field`` (the kernel name of the line, ``None`` when
    the line has no key), ``text`` (the line as read) and ``reason``.
    """


class RssLimitExceededError(Error):
    """A process was not measured because its RSS is above the ``max_rss`` it was given.

    Reading smaps_rollup walks the page tables of the whole address space under
    the process's mmap lock (fs/proc/task_mmu.c show_smaps_rollup()), which costs
    time in proportion to its RSS (docs/shared-memory.md); ``max_rss`` lets a
    sweep skip the large ones. ``pid``, ``rss`` (VmRSS from its status, bytes)
    and ``max_rss`` say which, and why.
    """

    def __init__(self, pid: int, rss: int, max_rss: int) -> None:
        self.pid = pid
        self.rss = rss
        self.max_rss = max_rss
        super().__init__(
            f"process {pid} skipped: its RSS ({rss} bytes) is above max_rss ({max_rss} bytes)"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (RssLimitExceededError, (self.pid, self.rss, self.max_rss))
