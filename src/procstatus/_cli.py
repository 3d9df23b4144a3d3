"""The ``procstatus`` command: show, top, watch and run, built on the library.

argparse cannot mix subcommands with bare PIDs (``procstatus 1 2`` and
``procstatus top``), so the first word chooses: a command name goes to that
command's parser, anything else to the default ``show``. Each command is a
function from parsed arguments to an exit status; the failures a person can
cause (no such process, permission, a damaged file) end as one line on stderr,
never as a traceback. docs/cli.md describes the output and the JSON schema.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any, Callable, Optional

from ._errors import (
    ProcessNotFoundError,
    ProcfsNotFoundError,
    StatusParseError,
)
from ._fields import FIELDS
from ._json import to_json_dict
from ._kinds import BYTES, KB
from ._model import ProcStatus
from ._parse import parse_status
from ._read import ScanError, iter_processes, read_memory, read_pid
from ._units import show_size

__all__ = ["main", "sparkline"]

PROG = "procstatus"

EXIT_OK = 0
EXIT_FAILURE = 1  # something could not be read
EXIT_USAGE = 2  # argparse's own status for bad arguments
EXIT_INTERNAL = 70  # EX_SOFTWARE (sysexits.h): a bug in procstatus
EXIT_INTERRUPTED = 130  # 128 + SIGINT, the shell's convention
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what `seq 1 1000000 | head -1` gives seq

COMMANDS = ("show", "top", "watch", "run")

# A status text is about 1.5 KiB; this only stops `--file /dev/zero` from eating memory.
_FILE_LIMIT = 1 << 20

_BARS = "▁▂▃▄▅▆▇█"
_ASCII_BARS = "_.-:=+*#"
_SPARK_SAMPLES = 20

_USAGE = """\
procstatus [-h] [--version] [--json] [--all] [--bytes] [--root PATH] [PID ...]
       procstatus [options] --file PATH [--file PATH ...]
       procstatus top [-n N] [--sort {peak,rss,swap,size}] [--bytes] [--json] [--root PATH]
       procstatus watch PID [--interval S] [--count N] [--bytes] [--root PATH]
       procstatus run [--json] -- CMD [ARG ...]"""

_DESCRIPTION = """\
Show what Linux /proc/PID/status says about processes: name, state, current and
peak memory (RSS, VmHWM, VmSize, VmPeak), swap, anonymous/file/shared memory
and threads. With no PID it shows procstatus's own status."""

_EPILOG = """\
commands:
  procstatus [PID ...]       a summary of each process (the default command)
  procstatus show [PID ...]  the same, spelled out
  procstatus top             the processes using the most memory, by peak RSS
  procstatus watch PID       RSS and peak RSS over time, until Ctrl-C or exit
  procstatus run -- CMD      run CMD and report its exact peak RSS
Options come after the command name; 'procstatus COMMAND --help' tells more.

exit status:
  0    success (watch: also when the process exits, or when stopped with Ctrl-C
       after the first sample)
  1    something could not be read: no such process, permission denied, no
       procfs at --root, a --file that is not a status text
  2    bad arguments
  70   an internal error (a bug in procstatus: please report it)
  130  interrupted with Ctrl-C
  141  the output was closed early (piped into head, for instance)
  run: the command's own exit status (128 + N when killed by signal N); 125 when
       it cannot be traced, 126 when it cannot be executed, 127 when not found

Sizes are in IEC units (1 KiB = 1024 bytes) unless --bytes is given; --json
always gives bytes. See docs/cli.md for the JSON schema."""


class _CommandError(Exception):
    """A failure to report on stderr as ``procstatus: <message>`` (exit status 1)."""


# ---- entry point ---------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    # Names and dumps may hold any character; an output that cannot encode one
    # shows an escape instead of failing.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        try:
            status = _dispatch(args)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, inside the handler below
    except SystemExit as exit_:
        # argparse exits for --help, --version and bad arguments (status 2);
        # main() returns the status instead, as it does for everything else.
        return _exit_status(exit_.code)
    except BrokenPipeError:
        # Stop writing quietly, the way tools killed by SIGPIPE do; stdout goes to
        # /dev/null so that the interpreter's own flush at exit fails no more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as error:
        # Only a bug gets here: the errors a person can cause are reported above.
        # One line rather than a traceback; PROCSTATUS_DEBUG=1 shows the traceback.
        if os.environ.get("PROCSTATUS_DEBUG"):
            raise
        _report(
            f"internal error, please report it: {type(error).__name__}: {error}"
            " (PROCSTATUS_DEBUG=1 shows the traceback)"
        )
        return EXIT_INTERNAL
    return status


def _exit_status(code: object) -> int:
    """The exit status ``sys.exit(code)`` gives: None is 0, an int itself, anything else 1."""
    if code is None:
        return EXIT_OK
    return code if isinstance(code, int) else EXIT_FAILURE


def _dispatch(args: list[str]) -> int:
    command, rest = (args[0], args[1:]) if args and args[0] in COMMANDS else ("show", args)
    try:
        if command == "top":
            return _top(_top_parser().parse_args(rest))
        if command == "watch":
            return _watch(_watch_parser().parse_args(rest))
        if command == "run":
            return _run(rest)
        parser = _show_parser(f"{PROG} show" if args[:1] == ["show"] else PROG)
        options = parser.parse_args(rest)
        if options.file and options.pids:
            parser.error("give PIDs or --file, not both")
        return _show(options)
    except _CommandError as failure:
        _report(str(failure))
        return EXIT_FAILURE


# ---- argument types --------------------------------------------------------------------


def _pid(text: str) -> int:
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


def _root(text: str) -> str:
    # The library refuses "" (it would make "<root>/1/status" the absolute "/1/status")
    # with a ValueError, as os.open does a NUL (possible only through main(argv)).
    if not text:
        raise argparse.ArgumentTypeError("must not be empty (the default is /proc)")
    if "\0" in text:
        raise argparse.ArgumentTypeError("must not contain a NUL character")
    return text


def _positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def _seconds(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < number < float("inf"):
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, not {text}")
    return number


# ---- parsers ---------------------------------------------------------------------------


def _add_common(parser: argparse.ArgumentParser) -> None:
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
        type=_root,
        default="/proc",
        help="where procfs is mounted (default: /proc); e.g. a container's proc seen from the host",
    )


def _show_parser(prog: str) -> argparse.ArgumentParser:
    from . import __version__  # noqa: PLC0415  (the package imports nothing from here)

    parser = argparse.ArgumentParser(
        prog=prog,
        usage=_USAGE if prog == PROG else None,
        description=_DESCRIPTION,
        epilog=_EPILOG if prog == PROG else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "pids",
        metavar="PID",
        type=_pid,
        nargs="*",
        help="process ids to show (default: procstatus itself)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per process (a list when several), keyed by kernel names",
    )
    _add_common(parser)
    parser.add_argument(
        "--all",
        "-a",
        action="store_true",
        help="every line of the status under its kernel name, not only the summary",
    )
    parser.add_argument(
        "--file",
        "-f",
        metavar="PATH",
        action="append",
        default=[],
        help="read a saved status text instead of a live process ('-' for stdin); repeatable",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return parser


_SORT_KEYS = {"peak": "VmHWM", "rss": "VmRSS", "swap": "VmSwap", "size": "VmSize"}


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} top",
        description="The processes using the most memory. Kernel threads (no memory) are left"
        " out; processes that exit meanwhile, may not be read or whose status cannot be"
        " parsed are skipped.",
    )
    parser.add_argument(
        "-n",
        "--number",
        metavar="N",
        type=_positive_int,
        default=10,
        help="how many processes to show (default: 10)",
    )
    parser.add_argument(
        "--sort",
        choices=tuple(_SORT_KEYS),
        default="peak",
        help="peak: peak RSS, VmHWM (default); rss: VmRSS; swap: VmSwap; size: VmSize",
    )
    parser.add_argument(
        "--json", action="store_true", help="a JSON list of the processes' full status objects"
    )
    _add_common(parser)
    return parser


def _watch_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} watch",
        description="RSS and peak RSS (VmHWM) of a process over time, one line per sample with"
        " a sparkline of recent RSS. Ends on Ctrl-C, when the process exits or after --count"
        " samples, with a summary line; all three exit with status 0.",
    )
    parser.add_argument("pid", metavar="PID", type=_pid, help="the process to watch")
    parser.add_argument(
        "--interval",
        "-i",
        metavar="S",
        type=_seconds,
        default=1.0,
        help="seconds between samples (default: 1)",
    )
    parser.add_argument(
        "--count",
        "-c",
        metavar="N",
        type=_positive_int,
        default=None,
        help="stop after N samples (default: until Ctrl-C or the process exits)",
    )
    _add_common(parser)
    return parser


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} run",
        usage=f"{PROG} run [-h] [--json] -- CMD [ARG ...]",
        description="Run CMD and report its peak RSS exactly: VmHWM read as the command exits"
        " (it is followed with ptrace, nothing is sampled). The report goes to stderr so that"
        " it does not mix with the command's output; procstatus exits with the command's"
        " status (125: cannot trace, 126: cannot execute, 127: not found). See docs/peak.md.",
    )
    parser.add_argument("command", metavar="CMD [ARG ...]", nargs="*", help="the command to run")
    parser.add_argument(
        "--json", action="store_true", help="the report as one JSON object (sizes in bytes)"
    )
    return parser


# ---- show ------------------------------------------------------------------------------

_SUMMARY_MEMORY = (
    ("RSS", "VmRSS"),
    ("peak RSS", "VmHWM"),
    ("size", "VmSize"),
    ("peak size", "VmPeak"),
    ("swap", "VmSwap"),
    ("RSS anon", "RssAnon"),
    ("RSS file", "RssFile"),
    ("RSS shmem", "RssShmem"),
)


def _show(options: argparse.Namespace) -> int:
    sources: list[tuple[Callable[[], ProcStatus], Optional[str]]]
    if options.file:
        sources = [(_file_reader(path), path) for path in options.file]
    else:
        pids = options.pids or [os.getpid()]
        sources = [(_live_reader(pid, options.root), None) for pid in pids]
    failed = False
    objects: list[dict[str, Any]] = []
    shown = 0
    for read, path in sources:
        try:
            status = read()
        except _CommandError as failure:
            _report(str(failure))
            failed = True
            continue
        if options.json:
            objects.append(to_json_dict(status))
            continue
        if shown:
            print()
        print(_header(status, path))
        lines = (
            _all_lines(status, options.bytes) if options.all else _summary(status, options.bytes)
        )
        print("\n".join(lines))
        shown += 1
    if options.json and (len(sources) > 1 or objects):
        # One object for one process, a list when several were asked for
        # (even if some of them failed), so the type never depends on luck.
        print(_json_text(objects if len(sources) > 1 else objects[0]))
    return EXIT_FAILURE if failed else EXIT_OK


def _live_reader(pid: int, root: str) -> Callable[[], ProcStatus]:
    return lambda: _read_live(pid, root)


def _file_reader(path: str) -> Callable[[], ProcStatus]:
    return lambda: _read_file(path)


def _read_live(pid: int, root: str) -> ProcStatus:
    try:
        return read_pid(pid, root)
    except (OSError, StatusParseError) as error:
        raise _explain(error, f"{root}/{pid}/status") from None
    except ValueError:
        raise _out_of_range(pid) from None


def _out_of_range(pid: int) -> _CommandError:
    # With --root checked by argparse, the only other ValueError of read_pid and
    # read_memory is their range check (_read._check_id): a number beyond pid_t
    # names no process, so it gets the same message as one that is not running.
    return _CommandError(f"no such process: {pid}")


def _read_file(path: str) -> ProcStatus:
    shown = "<stdin>" if path == "-" else _printable(path)
    try:
        if path == "-":
            data = sys.stdin.buffer.read(_FILE_LIMIT + 1)
        else:
            with open(path, "rb") as file:
                data = file.read(_FILE_LIMIT + 1)
    except OSError as error:
        raise _CommandError(f"cannot read {shown}: {error.strerror}") from None
    if len(data) > _FILE_LIMIT:
        raise _CommandError(f"{shown}: not a status text: larger than {_FILE_LIMIT} bytes")
    if not data.strip():
        # parse_status("") is an empty status, but an empty dump is a mistake.
        raise _CommandError(f"{shown}: not a status text: it is empty")
    try:
        return parse_status(data)
    except StatusParseError as error:
        raise _CommandError(f"{shown}: not a status text: {error}") from None


def _explain(error: Exception, path: str) -> _CommandError:
    """The one-line message for an error of the read functions."""
    if isinstance(error, ProcessNotFoundError):
        return _CommandError(f"no such process: {error.pid}")
    if isinstance(error, ProcfsNotFoundError):
        return _CommandError(f"{_printable(str(error.filename))}: {error.strerror}")
    if isinstance(error, StatusParseError):
        return _CommandError(f"{_printable(path)}: not a status text: {error}")
    if isinstance(error, OSError):
        # ProcfsPermissionError's strerror explains a hidepid= mount when there is one.
        where = _printable(str(error.filename or path))
        return _CommandError(f"cannot read {where}: {error.strerror or error}")
    raise error  # pragma: no cover  (only the errors above are passed in)


def _header(status: ProcStatus, path: Optional[str]) -> str:
    name = _printable(status.raw("Name")) if "Name" in status else "?"
    pid, tgid = status.get("Pid"), status.get("Tgid")
    if pid is None:
        head = f"process ?: {name}"
    elif tgid is not None and tgid != pid:
        head = f"thread {pid} of process {tgid}: {name}"
    else:
        head = f"process {pid}: {name}"
    if path is None:
        return head
    return f"{head}  (from {'<stdin>' if path == '-' else _printable(path)})"


def _summary(status: ProcStatus, exact: bool) -> list[str]:
    rows: list[tuple[str, str]] = []
    if status.state is not None:
        rows.append(("state", _printable(str(status.state))))
    if status.threads is not None:
        rows.append(("threads", str(status.threads)))
    sizes = [
        (label, show_size(status[key], exact=exact), key)
        for label, key in _SUMMARY_MEMORY
        if key in status
    ]
    if not sizes:
        rows.append(("memory", "none (kernel threads and zombies have no memory lines)"))
    labels = [label for label, _ in rows] + [label for label, _, _ in sizes]
    label_width = max(map(len, labels)) + 2
    lines = [f"  {label:<{label_width}}{value}" for label, value in rows]
    if sizes:
        size_width = max(len(size) for _, size, _ in sizes)
        lines.extend(
            f"  {label:<{label_width}}{size:>{size_width}}  {key}" for label, size, key in sizes
        )
    return lines


def _all_lines(status: ProcStatus, exact: bool) -> list[str]:
    width = max((len(key) for key in status), default=0) + 1
    lines = []
    for key in status:
        spec = FIELDS.get(key)
        if spec is not None and spec.kind in (KB, BYTES):
            value = show_size(status[key], exact=exact)
        elif key == "Name":
            value = _printable(status.raw(key))
        else:
            # Uid, Gid and the NS* lines separate their numbers with tabs.
            value = _printable(status.raw(key).replace("\t", " "))
        lines.append(f"  {_printable(key) + ':':<{width}} {value}".rstrip())
    return lines


# ---- top -------------------------------------------------------------------------------

_TOP_COLUMNS = (("PEAK RSS", "VmHWM"), ("RSS", "VmRSS"), ("SWAP", "VmSwap"), ("SIZE", "VmSize"))


def _top(options: argparse.Namespace) -> int:
    key = _SORT_KEYS[options.sort]
    # Kernel threads have no VmRSS line; there is nothing to rank them by.
    statuses = [status for status in _readable_processes(options.root) if "VmRSS" in status]
    statuses.sort(key=lambda status: (-(status.get(key) or 0), status.get("Pid") or 0))
    chosen = statuses[: options.number]
    if options.json:
        print(_json_text([to_json_dict(status) for status in chosen]))
        return EXIT_OK
    header = ["PID", *(title for title, _ in _TOP_COLUMNS)]
    table = [
        [
            str(status.get("Pid", "?")),
            *(_optional_size(status.get(field), options.bytes) for _, field in _TOP_COLUMNS),
        ]
        for status in chosen
    ]
    widths = [max(len(row[column]) for row in [header, *table]) for column in range(len(header))]
    names = [
        "NAME",
        *(_printable(status.raw("Name")) if "Name" in status else "?" for status in chosen),
    ]
    for row, name in zip([header, *table], names):
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths)) + "  " + name)
    return EXIT_OK


def _readable_processes(root: str) -> list[ProcStatus]:
    """Every process under ``root`` whose status can be read and parsed, in pid order.

    One damaged or unreadable status (permission denied under hidepid=, EIO, a
    damaged text) costs only its own line.
    """
    try:
        scan = iter_processes(root, on_error=_skip)  # raises for a root that is not a procfs
    except OSError as error:
        raise _explain(error, root) from None
    return list(scan)


def _skip(pid: int, error: ScanError) -> None:
    pass


def _optional_size(size: Optional[int], exact: bool) -> str:
    return "-" if size is None else show_size(size, exact=exact)


# ---- watch -----------------------------------------------------------------------------


def _watch(options: argparse.Namespace) -> int:
    pid: int = options.pid
    exact: bool = options.bytes
    width = 12 if exact else 10  # "1023.9 MiB" is 10 characters
    bars = _bars()
    rss_values: list[int] = []
    peak = 0
    started = time.monotonic()
    last = started
    ending = ""
    failure: Optional[_CommandError] = None
    try:
        for sample, taken in enumerate(_samples(pid, options.root, options.interval)):
            if taken is None:
                if not rss_values:
                    raise _CommandError(
                        f"process {pid} has no memory to watch (a kernel thread or a zombie)"
                    )
                ending = f"process {pid} exited"
                break
            rss, hwm, last = taken
            rss_values.append(rss)
            peak = max(peak, hwm)
            print(
                f"{time.strftime('%H:%M:%S')}  RSS {show_size(rss, exact=exact):>{width}}"
                f"  peak {show_size(hwm, exact=exact):>{width}}"
                f"  {sparkline(rss_values[-_SPARK_SAMPLES:], bars)}",
                flush=True,
            )
            if options.count is not None and sample + 1 >= options.count:
                break
    except KeyboardInterrupt:
        if not rss_values:
            raise  # nothing to summarize: an interrupted command (status 130)
        print()  # end the line the terminal's ^C is on
    except _CommandError as error:
        if not rss_values:
            raise
        failure = error
    if ending:
        print(ending)
    count = len(rss_values)
    print(
        f"process {pid}: {count} sample{'s' if count != 1 else ''} in {last - started:.1f} s;"
        f" RSS min {show_size(min(rss_values), exact=exact)},"
        f" max {show_size(max(rss_values), exact=exact)}; peak RSS {show_size(peak, exact=exact)}",
        flush=True,
    )
    if failure is not None:
        raise failure
    return EXIT_OK


def _samples(pid: int, root: str, interval: float) -> Iterator[Optional[tuple[int, int, float]]]:
    """(VmRSS, VmHWM, monotonic time) every ``interval`` seconds; None once the process is gone."""
    due = time.monotonic()
    first = True
    while True:
        try:
            memory = read_memory(pid, root)
        except ProcessNotFoundError:
            if first:
                raise _CommandError(f"no such process: {pid}") from None
            memory = None
        except (OSError, StatusParseError) as error:
            raise _explain(error, f"{root}/{pid}/status") from None
        except ValueError:
            raise _out_of_range(pid) from None
        first = False
        now = time.monotonic()
        if memory is None or memory.rss is None:
            # Gone, or a zombie: exit_mm() has dropped its memory (kernel/exit.c).
            yield None
            return
        # VmHWM is absent before 2.6.15; then the current RSS is the best peak known.
        yield memory.rss, memory.rss if memory.peak_rss is None else memory.peak_rss, now
        # Sleep to the next multiple of the interval, so that slow reads do not drift.
        # Once behind (a read slower than the interval, procstatus stopped with
        # Ctrl-Z), the missed samples are skipped, not taken back to back.
        due += interval
        current = time.monotonic()
        if due < current:
            due += math.ceil((current - due) / interval) * interval
        time.sleep(max(0.0, due - current))


def sparkline(values: Sequence[int], bars: str = _BARS) -> str:
    """One bar per value, scaled from the smallest value (lowest bar) to the largest."""
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return bars[0] * len(values)
    top = len(bars) - 1
    return "".join(bars[(value - low) * top // (high - low)] for value in values)


def _bars() -> str:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        _BARS.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return _ASCII_BARS
    return _BARS


# ---- run -------------------------------------------------------------------------------


def _run(args: list[str]) -> int:
    parser = _run_parser()
    # Everything from the first word that is not an option (or from "--") is the
    # command, so its own options are never taken for ours.
    start = next(
        (index for index, arg in enumerate(args) if arg == "--" or not arg.startswith("-")),
        len(args),
    )
    options = parser.parse_args(args[:start])
    command = args[start + 1 :] if args[start : start + 1] == ["--"] else args[start:]
    if not command:
        parser.error(f"give the command to run after --, e.g. {PROG} run -- make -j4")
    from ._run import run_cli  # noqa: PLC0415  (loads ctypes and libc: only when needed)

    return run_cli(command, json_output=options.json)


# ---- output helpers --------------------------------------------------------------------


def _json_text(document: Any) -> str:
    """A status object (or a list of them) with one field per line, each value compact.

    ``json.dumps(indent=2)`` would give every number of a list or an id its own line.
    """
    if isinstance(document, list):
        if not document:
            return "[]"
        items = (_json_text(item).replace("\n", "\n  ") for item in document)
        return "[\n  " + ",\n  ".join(items) + "\n]"
    if not document:
        return "{}"
    fields = (f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in document.items())
    return "{\n" + ",\n".join(fields) + "\n}"


def _report(message: str) -> None:
    sys.stdout.flush()  # what was printed before the error comes before it on a terminal
    print(f"{PROG}: {message}", file=sys.stderr)


def _printable(text: str) -> str:
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
