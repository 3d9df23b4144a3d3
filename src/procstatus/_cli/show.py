"""``procstatus [PID ...]`` and ``procstatus show``: a summary of each process.

The default command: with no PID, procstatus's own status. ``--file`` reads a
saved status text instead of a live process, ``--all`` shows every line under
its kernel name, ``--json`` gives the objects of docs/cli.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Optional

from .. import __version__
from .._errors import StatusParseError
from .._fields import FIELDS
from .._json import to_json_dict
from .._kinds import BYTES, KB
from .._model import ProcStatus
from .._parse import parse_status
from .._procfs import STATUS_LIMIT
from .._procfs import path as procfs_path
from .._read import read_pid
from .._units import show_size
from .common import (
    EXIT_FAILURE,
    EXIT_OK,
    PROG,
    CommandError,
    add_common,
    explain,
    json_text,
    out_of_range,
    pid_arg,
    printable,
    report,
    shown_name,
)

__all__ = ["DESCRIPTION", "build_parser", "main", "show"]

DESCRIPTION = """\
Show what Linux /proc/PID/status says about processes: name, state, current and
peak memory (RSS, VmHWM, VmSize, VmPeak), swap, anonymous/file/shared memory
and threads. With no PID it shows procstatus's own status."""


def main(
    args: list[str],
    prog: str = f"{PROG} show",
    usage: Optional[str] = None,
    epilog: Optional[str] = None,
) -> int:
    parser = build_parser(prog, usage, epilog)
    options = parser.parse_args(args)
    if options.file and options.pids:
        parser.error("give PIDs or --file, not both")
    return show(options)


def build_parser(
    prog: str, usage: Optional[str] = None, epilog: Optional[str] = None
) -> argparse.ArgumentParser:
    """The parser of ``procstatus show``; bare ``procstatus`` passes its overview help."""
    parser = argparse.ArgumentParser(
        prog=prog,
        usage=usage,
        description=DESCRIPTION,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "pids",
        metavar="PID",
        type=pid_arg,
        nargs="*",
        help="process ids to show (default: procstatus itself)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per process (a list when several), keyed by kernel names",
    )
    add_common(parser)
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


def show(options: argparse.Namespace) -> int:
    """Print each process (or saved text) asked for; 1 if any could not be read."""
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
        except CommandError as failure:
            report(str(failure))
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
        print(json_text(objects if len(sources) > 1 else objects[0]))
    return EXIT_FAILURE if failed else EXIT_OK


def _live_reader(pid: int, root: str) -> Callable[[], ProcStatus]:
    return lambda: _read_live(pid, root)


def _file_reader(path: str) -> Callable[[], ProcStatus]:
    return lambda: _read_file(path)


def _read_live(pid: int, root: str) -> ProcStatus:
    try:
        return read_pid(pid, root)
    except (OSError, StatusParseError) as error:
        raise explain(error, procfs_path(root, pid, "status")) from None
    except ValueError:
        raise out_of_range(pid) from None


def _read_file(path: str) -> ProcStatus:
    shown = "<stdin>" if path == "-" else printable(path)
    try:
        if path == "-":
            if sys.stdin is None:  # `procstatus --file - <&-`
                raise CommandError("cannot read <stdin>: standard input is closed")
            data = sys.stdin.buffer.read(STATUS_LIMIT + 1)
        else:
            with open(path, "rb") as file:
                data = file.read(STATUS_LIMIT + 1)
    except OSError as error:
        raise CommandError(f"cannot read {shown}: {error.strerror}") from None
    if len(data) > STATUS_LIMIT:
        raise CommandError(f"{shown}: not a status text: larger than {STATUS_LIMIT} bytes")
    if not data.strip():
        # parse_status("") is an empty status, but an empty dump is a mistake.
        raise CommandError(f"{shown}: not a status text: it is empty")
    try:
        return parse_status(data)
    except StatusParseError as error:
        raise CommandError(f"{shown}: not a status text: {error}") from None


def _header(status: ProcStatus, path: Optional[str]) -> str:
    name = shown_name(status)
    pid, tgid = status.get("Pid"), status.get("Tgid")
    if pid is None:
        head = f"process ?: {name}"
    elif tgid is not None and tgid != pid:
        head = f"thread {pid} of process {tgid}: {name}"
    else:
        head = f"process {pid}: {name}"
    if path is None:
        return head
    return f"{head}  (from {'<stdin>' if path == '-' else printable(path)})"


def _summary(status: ProcStatus, exact: bool) -> list[str]:
    rows: list[tuple[str, str]] = []
    if status.state is not None:
        rows.append(("state", printable(str(status.state))))
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
            value = printable(status.raw(key))
        else:
            # Uid, Gid and the NS* lines separate their numbers with tabs.
            value = printable(status.raw(key).replace("\t", " "))
        lines.append(f"  {printable(key) + ':':<{width}} {value}".rstrip())
    return lines
