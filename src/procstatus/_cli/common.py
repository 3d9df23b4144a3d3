"""What the commands of ``procstatus`` share: exit statuses, argument types,
the one-line error report, JSON layout and escaping for the terminal.

Every message that quotes input (a process name, a key or line of a saved
text, a file name, a command's argv) passes through :func:`printable`, so that
no escape sequence from a process or a file reaches the terminal raw.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Optional

from .._errors import ProcessNotFoundError, ProcfsNotFoundError, StatusParseError
from .._units import show_size

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
    "add_common",
    "explain",
    "json_text",
    "optional_size",
    "out_of_range",
    "pid_arg",
    "positive_int",
    "printable",
    "report",
    "root_arg",
    "seconds",
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


def seconds(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < number < float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return number


# ---- options several commands share ------------------------------------------------------


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


def report(message: str) -> None:
    sys.stdout.flush()  # what was printed before the error comes before it on a terminal
    print(f"{PROG}: {message}", file=sys.stderr)


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
