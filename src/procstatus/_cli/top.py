"""``procstatus top``: the processes using the most memory, by peak RSS by default.

One scan of the proc root (:func:`procstatus.iter_processes`); a process that
exits meanwhile, may not be read or has a damaged status costs only its own
line, never the listing.

# Strategy: three ways to show the listing.
- Once (the default): the table, nothing else, for scripts and a quick look.
- ``--interval`` on a terminal: a frame redrawn in place every interval
  (``screen.Screen``), with a header giving the time, the sort key and the
  sums, until ``q``, Ctrl-C or ``--count`` frames.
- ``--interval`` anywhere else (a pipe, a file) or with ``--json``: one
  listing per interval, one after the other, each after its header (JSON: one
  document per interval), so ``tee`` and ``grep`` see them as they come.

Rows, sort keys and columns are tables (``_SORT_KEYS``, ``_COLUMNS``,
``_ROLLUP_COLUMNS``) of functions of a ``_Row``: a new figure is a new entry
there, plus what it reads. ``--sort pss|uss`` reads smaps_rollup, one read per
process that passed the filters, and adds the PSS and USS columns.
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import pwd
import re
import shutil
import sys
import time
from collections.abc import Sequence
from typing import Any, Callable, Optional

import attrs

from .._cmdline import command_line
from .._errors import RssLimitExceededError
from .._json import to_json_dict
from .._model import ProcStatus
from .._procfs import UID_MAX
from .._read import ScanError, iter_processes, read_cmdline
from .._read_rollup import RollupError, iter_rollups
from .._rollup import Rollup
from .._units import show_size
from .common import (
    EXIT_OK,
    PROG,
    add_common,
    add_repeat,
    explain,
    json_text,
    optional_size,
    positive_int,
    printable,
    report,
    shown_name,
)
from .schedule import next_due
from .screen import Screen

__all__ = ["build_parser", "main", "top"]


def main(args: list[str]) -> int:
    parser = build_parser()
    options = parser.parse_args(args)
    if options.count is not None and options.interval is None:
        parser.error("--count needs --interval")
    if options.max_rss is not None and not _SORT_KEYS[options.sort].rollup:
        parser.error("--max-rss needs --sort pss or --sort uss (only they read smaps_rollup)")
    return top(options)


@attrs.frozen
class _Row:
    """One process of the listing: its status and what else was read for it."""

    status: ProcStatus
    #: The command line (arguments joined by spaces), read only with --cmdline.
    command: Optional[str] = None
    #: smaps_rollup, read only for --sort pss|uss.
    rollup: Optional[Rollup] = None


@attrs.frozen
class _Listing:
    """The rows of one listing, and how many processes --max-rss left out of it."""

    rows: list[_Row]
    #: Processes not ranked because their RSS is above --max-rss (no rollup read).
    over_max_rss: int = 0


@attrs.frozen
class _SortKey:
    label: str  # for the header: "sorted by <label>"
    help: str  # its part of --sort's help; "" when another key's part says it
    value: Callable[[_Row], Optional[int]]
    #: Whether it needs smaps_rollup (read for the rows that passed the filters).
    rollup: bool = False


def _field(name: str) -> Callable[[_Row], Optional[int]]:
    def value(row: _Row) -> Optional[int]:
        size: Optional[int] = row.status.get(name)
        return size

    return value


def _rollup_field(name: str) -> Callable[[_Row], Optional[int]]:
    def value(row: _Row) -> Optional[int]:
        size: Optional[int] = None if row.rollup is None else getattr(row.rollup, name)
        return size

    return value


_SORT_KEYS = {
    "peak": _SortKey("peak RSS (VmHWM)", "peak: peak RSS, VmHWM (default)", _field("VmHWM")),
    "rss": _SortKey("RSS (VmRSS)", "rss: VmRSS", _field("VmRSS")),
    "swap": _SortKey("swap (VmSwap)", "swap: VmSwap", _field("VmSwap")),
    "size": _SortKey("size (VmSize)", "size: VmSize", _field("VmSize")),
    "pss": _SortKey(
        "PSS (smaps_rollup)",
        "pss, uss: from smaps_rollup, adding PSS and USS columns (a rollup read per process,"
        " about 10 ms per GiB of RSS; processes it may not read are left out)",
        _rollup_field("pss"),
        rollup=True,
    ),
    "uss": _SortKey("USS (smaps_rollup)", "", _rollup_field("uss"), rollup=True),
}

#: The size columns, between USER and NAME: (title, value).
_COLUMNS: tuple[tuple[str, Callable[[_Row], Optional[int]]], ...] = (
    ("PEAK RSS", _field("VmHWM")),
    ("RSS", _field("VmRSS")),
    ("SWAP", _field("VmSwap")),
    ("SIZE", _field("VmSize")),
)
#: Added after SIZE when smaps_rollup was read (--sort pss|uss).
_ROLLUP_COLUMNS: tuple[tuple[str, Callable[[_Row], Optional[int]]], ...] = (
    ("PSS", _rollup_field("pss")),
    ("USS", _rollup_field("uss")),
)

_DEFAULT_NUMBER = 10


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} top",
        description="The processes using the most memory. Kernel threads (no memory) are left"
        " out; processes that exit meanwhile, may not be read or whose status cannot be"
        " parsed are skipped. With --interval, the listing is redrawn in place on a terminal"
        " until q or Ctrl-C, and repeated elsewhere.",
    )
    parser.add_argument(
        "-n",
        "--number",
        metavar="N",
        type=positive_int,
        default=None,
        help=f"how many processes to show (default: {_DEFAULT_NUMBER}; with --interval on a"
        " terminal, as many as fit)",
    )
    parser.add_argument(
        "--sort",
        choices=tuple(_SORT_KEYS),
        default="peak",
        help="; ".join(key.help for key in _SORT_KEYS.values() if key.help),
    )
    parser.add_argument(
        "--max-rss",
        metavar="MIB",
        type=positive_int,
        default=None,
        help="with --sort pss|uss: do not read smaps_rollup of processes whose RSS is above MIB"
        " mebibytes (the read costs about 10 ms per GiB of RSS); they are left out, and"
        " counted on standard error (in the header with --interval)",
    )
    parser.add_argument(
        "--user",
        "-u",
        metavar="NAME|UID",
        type=_user_arg,
        action="append",
        help="only the processes of this user (effective uid, as ps -u); may be repeated",
    )
    parser.add_argument(
        "--name",
        metavar="PATTERN",
        action="append",
        help="only the processes whose name matches this shell-style pattern (*, ?, [...];"
        " the name is at most 15 bytes: see --cmdline); may be repeated",
    )
    parser.add_argument(
        "--cmdline",
        action="store_true",
        help="match --name against the command line, and show the command line instead of the name",
    )
    add_repeat(
        parser,
        interval=None,
        interval_help="list again every S seconds: redrawn in place on a terminal (q or Ctrl-C"
        " quits), one listing after another elsewhere",
        count_help="with --interval: stop after N listings",
    )
    parser.add_argument(
        "--json", action="store_true", help="a JSON list of the processes' full status objects"
    )
    add_common(parser)
    return parser


def _user_arg(text: str) -> int:
    """A user name, or a uid: names first, as ps(1) does (a name may be all digits)."""
    try:
        return pwd.getpwnam(text).pw_uid
    except (KeyError, ValueError):  # ValueError: a name with a NUL
        pass
    if text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= UID_MAX:
        return int(text)
    raise argparse.ArgumentTypeError(f"no such user: {text!r}")


def top(options: argparse.Namespace) -> int:
    """Print the processes with the most memory, by the chosen sort key."""
    if options.interval is None:
        listing = _listing(options)
        rows = listing.rows
        if options.json:
            _print_lines(_json_lines(rows, options.number))
        elif options.cmdline and sys.stdout.isatty():
            # Command lines are cut to the terminal's width, as ps(1) cuts them.
            width = shutil.get_terminal_size().columns
            _print_lines([line[:width] for line in _table(rows, options)])
        else:
            _print_lines(_table(rows, options))
        if listing.over_max_rss:
            # On standard error, so that the listing stays the same shape for scripts.
            report(_over_max_rss(listing, options), f"{PROG} top")
        return EXIT_OK
    return _repeat(options)


# ---- choosing the rows -------------------------------------------------------------------


def _listing(options: argparse.Namespace) -> _Listing:
    """The processes that pass the filters, in sort order (all of them: -n is applied later)."""
    names = [_compile(pattern) for pattern in options.name or ()]
    users = frozenset(options.user or ())
    sort_key = _SORT_KEYS[options.sort]
    sort = sort_key.value
    rows = []
    # Kernel threads have no VmRSS line; there is nothing to rank them by.
    for status in _readable_processes(options.root):
        if "VmRSS" not in status:
            continue
        if users and _effective_uid(status) not in users:
            continue
        row = _Row(status=status)
        if names:
            text = status.name or ""
            if options.cmdline:
                with_command = _with_command(row, options.root)
                if with_command is None:
                    continue
                row = with_command
                # An empty command line (a process inside execve) is matched by its name.
                text = row.command or text
            if not any(pattern.match(text) for pattern in names):
                continue
        rows.append(row)
    over_max_rss = 0
    if sort_key.rollup:
        max_rss = None if options.max_rss is None else options.max_rss << 20
        rows, over_max_rss = _with_rollups(rows, options.root, max_rss)
    rows.sort(key=lambda row: (-(sort(row) or 0), row.status.get("Pid") or 0))
    return _Listing(rows=rows, over_max_rss=over_max_rss)


def _with_rollups(rows: list[_Row], root: str, max_rss: Optional[int]) -> tuple[list[_Row], int]:
    """The rows whose smaps_rollup could be read, with it, and how many max_rss left out.

    The others cannot be ranked: another user's process, a damaged text.
    """
    by_pid = {row.status.pid: row for row in rows if row.status.pid is not None}
    over: list[int] = []

    def skip(pid: int, error: RollupError) -> None:
        if isinstance(error, RssLimitExceededError):
            over.append(pid)

    read = [
        attrs.evolve(by_pid[pid], rollup=rollup)
        for pid, rollup in iter_rollups(root, pids=list(by_pid), max_rss=max_rss, on_error=skip)
        if rollup is not None
    ]
    return read, len(over)


def _over_max_rss(listing: _Listing, options: argparse.Namespace) -> str:
    count = listing.over_max_rss
    return (
        f"{count} process{'es' if count != 1 else ''} above --max-rss {options.max_rss} MiB"
        " not measured, left out"
    )


def _with_command(row: _Row, root: str) -> Optional[_Row]:
    """``row`` with its command line, or None when it cannot be read (gone, hidden)."""
    if row.command is not None:
        return row
    try:
        args = read_cmdline(row.status.get("Pid", -1), root)
    except (OSError, ValueError):
        return None  # skipped, as the processes whose status cannot be read are
    return attrs.evolve(row, command=command_line(args))


def _compile(pattern: str) -> re.Pattern[str]:
    # fnmatch.translate gives a regular expression that cannot backtrack across
    # its stars (every "*" but the last is matched lazily inside an atomic group,
    # or its lookahead emulation before Python 3.11: bpo-40480), so a match takes
    # time linear in the text for a given pattern, even on a 6 MiB command line.
    return re.compile(fnmatch.translate(pattern))


def _effective_uid(status: ProcStatus) -> Optional[int]:
    ids = status.uid
    return None if ids is None else ids.effective


@functools.lru_cache(maxsize=1024)
def _user_name(uid: int) -> str:
    """The user name of ``uid`` on this machine, or the number when it has none."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _readable_processes(root: str) -> list[ProcStatus]:
    """Every process under ``root`` whose status can be read and parsed, in pid order.

    One damaged or unreadable status (permission denied under hidepid=, EIO, a
    damaged text) costs only its own line.
    """
    try:
        scan = iter_processes(root, on_error=_skip)  # raises for a root that is not a procfs
    except OSError as error:
        raise explain(error, root) from None
    return list(scan)


def _skip(pid: int, error: ScanError) -> None:
    pass


# ---- the table ---------------------------------------------------------------------------


def _table(
    rows: Sequence[_Row], options: argparse.Namespace, limit: Optional[int] = None
) -> list[str]:
    """The header line and one line per process, at most -n (or ``limit``) of them."""
    number = options.number or limit or _DEFAULT_NUMBER
    if limit is not None:
        number = min(number, limit)
    chosen = rows[:number]
    if options.cmdline:
        # Read only for the rows shown, unless --name needed them all.
        with_commands = (_with_command(row, options.root) for row in chosen)
        chosen = [row for row in with_commands if row is not None]
    columns = _COLUMNS + (_ROLLUP_COLUMNS if _SORT_KEYS[options.sort].rollup else ())
    header = ["PID", "USER", *(title for title, _ in columns)]
    cells = [
        [
            str(row.status.get("Pid", "?")),
            _user_of(row.status),
            *(optional_size(value(row), options.bytes) for _, value in columns),
        ]
        for row in chosen
    ]
    widths = [max(len(line[column]) for line in [header, *cells]) for column in range(len(header))]
    last = ["COMMAND" if options.cmdline else "NAME", *(_name_of(row) for row in chosen)]
    return [
        "  ".join(
            # USER is text: left-aligned, like NAME; the numbers are right-aligned.
            cell.ljust(width) if column == 1 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(line, widths))
        )
        + "  "
        + name
        for line, name in zip([header, *cells], last)
    ]


def _user_of(status: ProcStatus) -> str:
    uid = _effective_uid(status)
    return "?" if uid is None else printable(_user_name(uid))


def _name_of(row: _Row) -> str:
    if row.command:
        return printable(row.command)
    return shown_name(row.status)


def _json_lines(rows: Sequence[_Row], number: Optional[int] = None) -> list[str]:
    chosen = rows[: number or _DEFAULT_NUMBER]
    return [json_text([_json(row) for row in chosen])]


def _json(row: _Row) -> dict[str, Any]:
    document = to_json_dict(row.status)
    if row.rollup is not None:
        # Lower-case keys, so they never meet a kernel status name.
        document["pss"] = row.rollup.pss or 0
        document["uss"] = row.rollup.uss or 0
    return document


def _print_lines(lines: Sequence[str]) -> None:
    for line in lines:
        print(line)


# ---- again and again: --interval ---------------------------------------------------------


def _repeat(options: argparse.Namespace) -> int:
    terminal = not options.json and sys.stdout.isatty()
    shown = 0
    try:
        if terminal:
            keys = sys.stdin.fileno() if sys.stdin is not None and sys.stdin.isatty() else None
            with Screen(sys.stdout, keys) as screen:
                due = time.monotonic()
                while True:
                    listing = _listing(options)
                    height = screen.size()[1]
                    header = _header(listing, options, quit_key=keys is not None)
                    # The frame must fit, or the terminal would scroll it away; the
                    # last line stays free for the shell's prompt when it ends.
                    room = max(height - len(header) - 2, 1)
                    frame = [*header, *_table(listing.rows, options, limit=room)]
                    shown += 1  # before drawing: a Ctrl-C from now on ends a listing shown
                    screen.draw(frame)
                    if options.count is not None and shown >= options.count:
                        break
                    due = next_due(due, options.interval, time.monotonic())
                    if screen.wait_until(due):
                        break
        else:
            due = time.monotonic()
            while True:
                listing = _listing(options)
                if options.json:
                    lines = _json_lines(listing.rows, options.number)
                    if listing.over_max_rss:
                        report(_over_max_rss(listing, options), f"{PROG} top")
                else:
                    lines = [
                        *([""] if shown else []),
                        *_header(listing, options),
                        *_table(listing.rows, options),
                    ]
                shown += 1  # before printing: a Ctrl-C from now on ends a listing shown
                _print_lines(lines)
                sys.stdout.flush()
                if options.count is not None and shown >= options.count:
                    break
                due = next_due(due, options.interval, time.monotonic())
                time.sleep(max(0.0, due - time.monotonic()))
    except KeyboardInterrupt:
        if not shown:
            raise  # nothing was shown: an interrupted command (status 130)
        if not terminal:
            print()  # end the line the terminal's ^C is on
    return EXIT_OK


def _header(listing: _Listing, options: argparse.Namespace, *, quit_key: bool = False) -> list[str]:
    """What the listing is: when, how sorted, how many, and the sums, said to be RSS sums."""
    rows = listing.rows
    now = time.time()
    clock = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
    count = len(rows)
    processes = f"{count} process{'es' if count != 1 else ''}"
    filters = _describe_filters(options)
    first = (
        f"{clock}  {processes}{filters}, sorted by {_SORT_KEYS[options.sort].label},"
        f" every {options.interval:g} s"
    )
    if listing.over_max_rss:
        first += f"; {_over_max_rss(listing, options)}"
    if quit_key:
        first += "; q quits"
    rss = sum(row.status.get("VmRSS") or 0 for row in rows)
    swap = sum(row.status.get("VmSwap") or 0 for row in rows)
    sums = (
        f"sums: RSS {show_size(rss, exact=options.bytes)},"
        f" swap {show_size(swap, exact=options.bytes)}"
        " (RSS sums count shared pages in each process)"
    )
    return [first, sums]


def _describe_filters(options: argparse.Namespace) -> str:
    parts = [f"user {printable(_user_name(uid))}" for uid in options.user or ()]
    what = "command line" if options.cmdline else "name"
    parts += [f"{what} {printable(pattern)!s}" for pattern in options.name or ()]
    return f" ({', '.join(parts)})" if parts else ""
