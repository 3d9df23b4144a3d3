"""``procstatus tree PID``: a process and its descendants with RSS, PSS, USS and swap.

One line per process, indented by depth, and a total line that puts the sums
of RSS and PSS side by side: adding up RSS counts every shared page once per
process, PSS divides it among them (docs/shared-memory.md). The numbers come
from :func:`procstatus.read_tree`; processes it may not measure are listed
with the reason and left out of the totals, and the total line says how many.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Optional

from .._errors import StatusParseError
from .._procfs import path as procfs_path
from .._tree import ProcessTree, read_tree
from .common import (
    EXIT_OK,
    PROG,
    add_common,
    explain,
    optional_size,
    out_of_range,
    pid_arg,
    positive_int,
    printable,
    shown_name_of,
)

__all__ = ["build_parser", "main", "tree"]

_MIB = 1 << 20


def main(args: list[str]) -> int:
    return tree(build_parser().parse_args(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} tree",
        description="A process and all its descendants with RSS, PSS (shared pages divided"
        " among the processes that map them), USS (pages only that process maps) and swap,"
        " and their totals: the PSS total is what the tree really uses, the RSS total counts"
        " shared pages once per process. Reads /proc/PID/smaps_rollup of every process, which"
        " costs about 10 ms per GiB of RSS; processes it may not read (another user's) are"
        " listed and left out of the totals.",
    )
    parser.add_argument("pid", metavar="PID", type=pid_arg, help="the root of the tree")
    parser.add_argument(
        "--max-rss",
        metavar="MIB",
        type=positive_int,
        default=None,
        help="do not measure processes whose RSS is above MIB mebibytes (listed, not counted)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='{"root", "processes": [{"pid", "ppid", "name", "depth", "rss", "pss", "uss",'
        ' "swap"}, ...], "total": {...}}, sizes in bytes',
    )
    add_common(parser)
    return parser


def tree(options: argparse.Namespace) -> int:
    """Print the tree of one process, or its JSON object."""
    pid: int = options.pid
    max_rss: Optional[int] = None if options.max_rss is None else options.max_rss * _MIB
    try:
        result = read_tree(pid, options.root, max_rss=max_rss)
    except (OSError, StatusParseError) as error:  # the root process only: see read_tree
        raise explain(error, procfs_path(options.root, pid, "status")) from None
    except ValueError:
        raise out_of_range(pid) from None
    if options.json:
        print(_json_text(result.to_json_dict()))
    else:
        for line in _table(result, options.bytes):
            print(line)
    return EXIT_OK


_COLUMNS = ("RSS", "PSS", "USS", "SWAP")


def _table(result: ProcessTree, exact: bool) -> list[str]:
    header = ["PID", *_COLUMNS]
    rows = [
        [
            str(process.pid),
            *(optional_size(getattr(process, column.lower()), exact) for column in _COLUMNS),
        ]
        for process in result.processes
    ]
    total = result.total
    rows.append(
        [
            "TOTAL",
            *(optional_size(getattr(total, column.lower()), exact) for column in _COLUMNS),
        ]
    )
    names = ["NAME"]
    for process in result.processes:
        name = "  " * process.depth + shown_name_of(process.name)
        problem = process.problem
        names.append(name if problem is None else f"{name} ({printable(problem)})")
    names.append(_summary(result))
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    return [
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths)) + "  " + name
        for row, name in zip([header, *rows], names)
    ]


def _summary(result: ProcessTree) -> str:
    measured = len(result.processes) - result.unmeasured
    text = f"{measured} process{'es' if measured != 1 else ''}"
    if result.total.pss:
        text += f"; RSS total = {result.total.rss / result.total.pss:.1f} x PSS total"
    if result.unmeasured:
        text += f"; {result.unmeasured} not measured, left out"
    return text


def _json_text(document: dict[str, Any]) -> str:
    """The tree's object with one process per line."""
    processes = ",\n    ".join(json.dumps(process) for process in document["processes"])
    return (
        "{\n"
        f'  "root": {json.dumps(document["root"])},\n'
        f'  "processes": [\n    {processes}\n  ],\n'
        f'  "total": {json.dumps(document["total"])}\n'
        "}"
    )
