"""``procstatus top``: the processes using the most memory, by peak RSS by default.

One scan of the proc root (:func:`procstatus.iter_processes`); a process that
exits meanwhile, may not be read or has a damaged status costs only its own
line, never the listing.
"""

from __future__ import annotations

import argparse

from .._json import to_json_dict
from .._model import ProcStatus
from .._read import ScanError, iter_processes
from .common import (
    EXIT_OK,
    PROG,
    add_common,
    explain,
    json_text,
    optional_size,
    positive_int,
    printable,
)

__all__ = ["build_parser", "main", "top"]


def main(args: list[str]) -> int:
    return top(build_parser().parse_args(args))


_SORT_KEYS = {"peak": "VmHWM", "rss": "VmRSS", "swap": "VmSwap", "size": "VmSize"}


def build_parser() -> argparse.ArgumentParser:
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
        type=positive_int,
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
    add_common(parser)
    return parser


_TOP_COLUMNS = (("PEAK RSS", "VmHWM"), ("RSS", "VmRSS"), ("SWAP", "VmSwap"), ("SIZE", "VmSize"))


def top(options: argparse.Namespace) -> int:
    """Print the processes with the most memory, by the chosen sort key."""
    key = _SORT_KEYS[options.sort]
    # Kernel threads have no VmRSS line; there is nothing to rank them by.
    statuses = [status for status in _readable_processes(options.root) if "VmRSS" in status]
    statuses.sort(key=lambda status: (-(status.get(key) or 0), status.get("Pid") or 0))
    chosen = statuses[: options.number]
    if options.json:
        print(json_text([to_json_dict(status) for status in chosen]))
        return EXIT_OK
    header = ["PID", *(title for title, _ in _TOP_COLUMNS)]
    table = [
        [
            str(status.get("Pid", "?")),
            *(optional_size(status.get(field), options.bytes) for _, field in _TOP_COLUMNS),
        ]
        for status in chosen
    ]
    widths = [max(len(row[column]) for row in [header, *table]) for column in range(len(header))]
    names = [
        "NAME",
        *(printable(status.raw("Name")) if "Name" in status else "?" for status in chosen),
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
        raise explain(error, root) from None
    return list(scan)


def _skip(pid: int, error: ScanError) -> None:
    pass
