"""What the commands of ``procstatus`` share: exit statuses, argument types,
the one-line error report, JSON layout, escaping for the terminal and the
guarded output streams.

Every message that quotes input (a process name, a key or line of a saved
text, a file name, a command's argv) passes through :func:`printable`, so that
no escape sequence from a process or a file reaches the terminal raw.

# Strategy: two layers against hostile text, one helper
Each command escapes what it quotes where it quotes it (``printable(name)``),
so that its output reads right however it is called. Under :func:`main`,
:func:`guarded_streams` also passes everything written to ``sys.stdout`` and
``sys.stderr`` through :func:`printable` line by line (argparse's own messages
quote arguments raw: ``unrecognized arguments: ...``). ``printable`` leaves
printable text unchanged, so the second layer never escapes twice.

The same wrappers turn a stream that cannot be written (closed before
procstatus started, a broken pipe, a full disk, a terminal that hung up) into
one :class:`OutputError` for standard output, and into silence for standard
error, where there is nowhere left to say anything: never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Optional, TextIO, cast

from .._errors import ProcessNotFoundError, ProcfsNotFoundError, StatusParseError
from .._units import show_size

if TYPE_CHECKING:
    from .._model import ProcStatus

__all__ = [
    "COMMANDS",
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILURE",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "PROG",
    "CommandError",
    "OutputError",
    "add_common",
    "add_repeat",
    "announce",
    "explain",
    "guarded_streams",
    "json_text",
    "optional_size",
    "out_of_range",
    "pid_arg",
    "positive_int",
    "printable",
    "report",
    "root_arg",
    "seconds",
    "shown_name",
    "shown_name_of",
]

PROG = "procstatus"

#: The command names, in the order ``procstatus --help`` lists them; each is the
#: module of this package that implements it.
COMMANDS = ("show", "top", "watch", "run", "serve", "tree")

EXIT_OK = 0
EXIT_FAILURE = 1  # something could not be read
EXIT_USAGE = 2  # argparse's own status for bad arguments
EXIT_INTERNAL = 70  # EX_SOFTWARE (sysexits.h): a bug in procstatus
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what `seq 1 1000000 | head -1` gives seq


class CommandError(Exception):
    """A failure to report on stderr as ``procstatus: <message>`` (exit status 1)."""


class OutputError(Exception):
    """Standard output cannot be written; ``error`` is the ``OSError`` that said so.

    Not an ``OSError`` itself, so that no handler meant for a read error (nor
    argparse, which ignores ``OSError`` while printing help) can take it.
    """

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror or str(error))
        self.error = error


# ---- argument types --------------------------------------------------------------------


def pid_arg(text: str) -> int:
    if text in COMMANDS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is a command: write it first, before any option ({PROG} {text} ...)"
        )
    # Only plain decimal digits: int() would also take "+5", " 5" or Arabic-Indic digits.
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"invalid PID: {text!r} (a process id is a number)")
    if len(text) > 20:  # no pid has that many digits; this keeps int() cheap
        raise argparse.ArgumentTypeError(f"invalid PID: {text[:20]}... (too large)")
    return int(text)


def root_arg(text: str) -> str:
    # The library refuses "" (it would make "<root>/1/status" the absolute "/1/status")
    # with a ValueError, as os.open does a NUL (possible only through main(argv)).
    if not text:
        raise argparse.ArgumentTypeError("must not be empty (the default is /proc)")
    if "\0" in text:
        raise argparse.ArgumentTypeError("must not contain a NUL character")
    return text


def positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


#: The shortest and longest --interval. Below 10 ms a sample would cost more than
#: the interval (a scan of every process takes milliseconds); above 1e6 s (11.6
#: days) nobody waits, and far above it the schedule overflows: time.sleep() and
#: time.localtime() take no more than time_t holds, and a 5e-324 s interval made
#: the count of intervals missed infinite.
MIN_SECONDS = 0.01
MAX_SECONDS = 1e6


def seconds(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not MIN_SECONDS <= number <= MAX_SECONDS:  # NaN too: it compares false
        raise argparse.ArgumentTypeError(
            f"must be from {MIN_SECONDS:g} to {MAX_SECONDS:.0f} seconds, not {text}"
        )
    return number


# ---- options several commands share ------------------------------------------------------


def add_repeat(
    parser: argparse.ArgumentParser,
    *,
    interval: Optional[float],
    interval_help: str,
    count_help: str,
) -> None:
    """--interval and --count, which top and watch share (the bounds of :func:`seconds`)."""
    parser.add_argument(
        "--interval",
        "-i",
        metavar="S",
        type=seconds,
        default=interval,
        help=f"{interval_help}; S from {MIN_SECONDS:g} to {MAX_SECONDS:.0f}",
    )
    parser.add_argument(
        "--count", "-c", metavar="N", type=positive_int, default=None, help=count_help
    )


def add_common(parser: argparse.ArgumentParser) -> None:
    """--bytes and --root, which show, top and watch share."""
    parser.add_argument(
        "--bytes",
        "-b",
        action="store_true",
        help="exact sizes in bytes instead of KiB, MiB, GiB",
    )
    parser.add_argument(
        "--root",
        metavar="PATH",
        type=root_arg,
        default="/proc",
        help="where procfs is mounted (default: /proc); e.g. a container's proc seen from the host",
    )


# ---- messages --------------------------------------------------------------------------


def explain(error: Exception, path: str) -> CommandError:
    """The one-line message for an error of the read functions."""
    if isinstance(error, ProcessNotFoundError):
        return CommandError(f"no such process: {error.pid}")
    if isinstance(error, ProcfsNotFoundError):
        return CommandError(f"{printable(str(error.filename))}: {error.strerror}")
    if isinstance(error, StatusParseError):
        return CommandError(f"{printable(path)}: not a status text: {error}")
    if isinstance(error, OSError):
        # ProcfsPermissionError's strerror explains a hidepid= mount when there is one.
        where = printable(str(error.filename or path))
        return CommandError(f"cannot read {where}: {error.strerror or error}")
    raise error  # pragma: no cover  (only the errors above are passed in)


def out_of_range(pid: int) -> CommandError:
    # With --root checked by argparse, the only other ValueError of read_pid and
    # read_memory is their range check (_procfs.check_id): a number beyond pid_t
    # names no process, so it gets the same message as one that is not running.
    return CommandError(f"no such process: {pid}")


def optional_size(size: Optional[int], exact: bool) -> str:
    return "-" if size is None else show_size(size, exact=exact)


def json_text(document: Any) -> str:
    """A status object (or a list of them) with one field per line, each value compact.

    ``json.dumps(indent=2)`` would give every number of a list or an id its own line.
    """
    if isinstance(document, list):
        if not document:
            return "[]"
        items = (json_text(item).replace("\n", "\n  ") for item in document)
        return "[\n  " + ",\n  ".join(items) + "\n]"
    if not document:
        return "{}"
    fields = (f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in document.items())
    return "{\n" + ",\n".join(fields) + "\n}"


def report(message: str, prog: str = PROG) -> None:
    """``<prog>: <message>`` on stderr, escaped; nothing when stderr cannot be written."""
    with contextlib.suppress(OutputError):
        if sys.stdout is not None:
            sys.stdout.flush()  # what was printed before comes before it on a terminal
    stderr = sys.stderr
    if stderr is None:  # closed when procstatus started: nowhere to say it
        return
    with contextlib.suppress(OSError):
        stderr.write(printable(f"{prog}: {message}") + "\n")
        stderr.flush()


# ---- the output streams ---------------------------------------------------------------


def announce(text: str, prog: str = PROG) -> None:
    """``<prog>: <text>`` on standard output, or on standard error when that fails.

    For a line that is a courtesy rather than the command's result (``serve``
    saying where it listens): a daemon whose supervisor closed its standard
    output must still do its work. The failure is said once, and then
    forgotten, so that it does not end the command when it finishes either.
    """
    line = f"{prog}: {text}"
    try:
        print(line, flush=True)
    except OutputError as error:
        report(f"{text} (not written to standard output: {error})", prog)
        stream = sys.stdout
        if isinstance(stream, _GuardedStream):
            stream.forgive()


@contextlib.contextmanager
def guarded_streams() -> Iterator[None]:
    """Within the block, ``sys.stdout`` and ``sys.stderr`` escape and never raise OSError.

    Standard output raises :class:`OutputError` instead (every time, once it has
    failed); standard error drops what it cannot write. A stream that was closed
    when procstatus started (``procstatus >&-``: Python sets ``sys.stdout`` to
    ``None``) fails with EBADF at the first write, so commands that never write
    there (``run`` reports on stderr) do not fail. The streams are put back at
    the end.
    """
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, _GuardedStream(stdout, raises=True))
    sys.stderr = cast(TextIO, _GuardedStream(stderr, raises=False))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = stdout, stderr


class _GuardedStream:
    """A text stream whose lines are written through :func:`printable`.

    Attributes other than ``write`` and ``flush`` (``encoding``, ``fileno``...)
    are the wrapped stream's.
    """

    def __init__(self, stream: Optional[TextIO], *, raises: bool) -> None:
        self._stream = stream
        self._raises = raises
        self._error: Optional[OSError] = None
        self._forgiven = False
        self.encoding = getattr(stream, "encoding", None) or "utf-8"

    def write(self, text: str) -> int:
        if not text.isprintable():
            text = "\n".join(map(printable, text.split("\n")))
        self._forgiven = False  # new output: its failure is the command's again
        try:
            self._check()
            assert self._stream is not None  # _check raised otherwise
            self._stream.write(text)
        except OSError as error:
            self._fail(error)
        return len(text)

    def flush(self) -> None:
        if self._stream is None and self._error is None:
            return  # closed from the start, and nothing written: nothing lost
        if self._forgiven:
            return  # the failure was dealt with (announce); nothing written since
        try:
            self._check()
            assert self._stream is not None
            self._stream.flush()
        except OSError as error:
            self._fail(error)

    def forgive(self) -> None:
        """The failure so far was dealt with: ``flush`` stops raising it (``write`` does not)."""
        self._forgiven = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def _check(self) -> None:
        if self._error is not None:
            raise self._error
        if self._stream is None:
            raise OSError(errno.EBADF, "it was closed when procstatus started")

    def _fail(self, error: OSError) -> None:
        if self._error is None:
            self._error = error
            _silence(self._stream)
        if self._raises:
            raise OutputError(error) from None


def _silence(stream: Optional[TextIO]) -> None:
    """Point the descriptor of a failed ``stream`` at /dev/null.

    What is still buffered goes there when Python flushes the stream at exit,
    rather than failing again (an "Exception ignored" message, exit status 120).
    A stream closed at start-up has no descriptor: its number may by now be a
    file procstatus opened, and is left alone.
    """
    try:
        fd = stream.fileno() if stream is not None else -1
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return
    if fd < 0:
        return
    devnull = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def printable(text: str) -> str:
    """``text`` safe for a terminal: control characters and undecodable bytes as escapes.

    A process chooses its own name (prctl(PR_SET_NAME), the file it executes) and
    a saved dump may hold anything, so an escape sequence in them must not reach
    the terminal. Name values are shown as the kernel escapes them (``\\\\`` for a
    backslash), so every other backslash in the output starts one of these escapes.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def shown_name(status: ProcStatus) -> str:
    """A process's name for the terminal: as the kernel printed it (``\\`` for a
    backslash, ``\n`` for a newline), escaped by :func:`printable`; "?" without one.

    Not ``status.name``: once unescaped, a name holding a backslash and an "n"
    would look like one holding a newline.
    """
    return printable(status.raw("Name")) if "Name" in status else "?"


def shown_name_of(name: str) -> str:
    """:func:`shown_name` for a name already unescaped (a record's ``name``): written
    back as the kernel prints it (fs/proc/array.c proc_task_name escapes only
    newline and backslash), then escaped by :func:`printable`."""
    return printable(name.replace("\\", "\\\\").replace("\n", "\\n"))


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if char == "\t":
        return "\\t"
    if char == "\n":
        return "\\n"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
