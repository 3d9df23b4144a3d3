"""``procstatus top``: the processes using the most memory, by peak RSS by default.

One scan of the proc root (:func:`procstatus.iter_processes`); a process that
exits meanwhile, may not be read or has a damaged status costs only its own
line, never the listing.
"""

from __future__ import annotations

import argparse
from typing import Any, Optional

from .._json import to_json_dict
from .._model import ProcStatus
from .._read import ScanError, iter_processes
from .._read_rollup import RollupError, iter_rollups
from .._rollup import Rollup
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
#: Sort keys from /proc/PID/smaps_rollup: each costs a rollup read per process.
_ROLLUP_SORTS = ("pss", "uss")


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
        choices=(*_SORT_KEYS, *_ROLLUP_SORTS),
        default="peak",
        help="peak: peak RSS, VmHWM (default); rss: VmRSS; swap: VmSwap; size: VmSize;"
        " pss, uss: from smaps_rollup, adding PSS and USS columns (a rollup read per process,"
        " about 10 ms per GiB of RSS; processes it may not read are left out)",
    )
    parser.add_argument(
        "--json", action="store_true", help="a JSON list of the processes' full status objects"
    )
    add_common(parser)
    return parser


_TOP_COLUMNS = (("PEAK RSS", "VmHWM"), ("RSS", "VmRSS"), ("SWAP", "VmSwap"), ("SIZE", "VmSize"))


def top(options: argparse.Namespace) -> int:
    """Print the processes with the most memory, by the chosen sort key."""
    # Kernel threads have no VmRSS line; there is nothing to rank them by.
    statuses = [status for status in _readable_processes(options.root) if "VmRSS" in status]
    rollups = _rollups(statuses, options.root) if options.sort in _ROLLUP_SORTS else None
    if rollups is None:
        key = _SORT_KEYS[options.sort]
        statuses.sort(key=lambda status: (-(status.get(key) or 0), status.get("Pid") or 0))
    else:
        statuses = [status for status in statuses if status.get("Pid") in rollups]
        statuses.sort(key=lambda status: (-_rollup_size(rollups, status, options.sort), status.pid))
    chosen = statuses[: options.number]
    if options.json:
        print(json_text([_json(status, rollups) for status in chosen]))
        return EXIT_OK
    extra = () if rollups is None else _ROLLUP_SORTS
    header = ["PID", *(title for title, _ in _TOP_COLUMNS), *(name.upper() for name in extra)]
    table = [
        [
            str(status.get("Pid", "?")),
            *(optional_size(status.get(field), options.bytes) for _, field in _TOP_COLUMNS),
            *(
                optional_size(_rollup_size(rollups or {}, status, name), options.bytes)
                for name in extra
            ),
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


# ---- --sort pss / uss: one smaps_rollup read per process ---------------------------------


def _rollups(statuses: list[ProcStatus], root: str) -> dict[int, Rollup]:
    """The rollup of each process that has one and may be read, by pid."""
    pids = [status.pid for status in statuses if status.pid is not None]
    return {
        pid: rollup
        for pid, rollup in iter_rollups(root, pids=pids, on_error=_skip_rollup)
        if rollup is not None
    }


def _skip_rollup(pid: int, error: RollupError) -> None:
    pass  # another user's process, a damaged text: it cannot be ranked, so it is left out


def _rollup_size(rollups: dict[int, Rollup], status: ProcStatus, name: str) -> int:
    rollup = rollups.get(status.pid or 0)
    size: Optional[int] = None if rollup is None else getattr(rollup, name)
    return size or 0


def _json(status: ProcStatus, rollups: Optional[dict[int, Rollup]]) -> dict[str, Any]:
    document = to_json_dict(status)
    if rollups is not None:
        # Lower-case keys, so they never meet a kernel status name.
        document["pss"] = _rollup_size(rollups, status, "pss")
        document["uss"] = _rollup_size(rollups, status, "uss")
    return document
