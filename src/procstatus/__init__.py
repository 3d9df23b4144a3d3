"""Read Linux /proc/PID/status exactly: current and peak memory, ids, signals, capabilities.

The parsing core (:func:`parse_status`) is pure; :func:`read_pid` and friends are a
thin layer that reads files under a proc root and hands the bytes to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import (
    Error,
    FieldTypeError,
    FieldValueError,
    PeakResetUnavailableError,
    PeakTraceError,
    ProcessNotFoundError,
    ProcfsFileError,
    ProcfsNotFoundError,
    ProcfsPermissionError,
    RollupParseError,
    RssLimitExceededError,
    StatusParseError,
)
from ._fields import FIELDS, FieldSpec
from ._format import format_status
from ._invariants import Violation, check_invariants
from ._json import to_json_dict
from ._kinds import Ids, Kind, SigQ, TaskState
from ._model import Memory, ProcStatus
from ._parse import parse_memory, parse_status
from ._peak import PeakWindow, reset_peak, track_peak
from ._read import iter_processes, read_memory, read_pid, read_task, thread_ids
from ._run import ProcessRun, RunResult, TreeSample, run_command

if TYPE_CHECKING:
    from ._read_rollup import (
        ROLLUP_LIMIT,
        SMAPS_LIMIT,
        RollupError,
        iter_rollups,
        read_rollup,
    )
    from ._rollup import Rollup, parse_rollup
    from ._rollup_fields import ROLLUP_FIELDS, RollupFieldSpec
    from ._tree import ProcessTree, TreeProcess, TreeTotal, read_tree

# Shared memory (smaps_rollup, process trees) is imported when first used: its
# classes and patterns would add about a tenth to `import procstatus`
# (benchmarks/bench.py, "import procstatus vs import attrs").
_LAZY = {
    "ROLLUP_LIMIT": "_read_rollup",
    "SMAPS_LIMIT": "_read_rollup",
    "RollupError": "_read_rollup",
    "iter_rollups": "_read_rollup",
    "read_rollup": "_read_rollup",
    "Rollup": "_rollup",
    "parse_rollup": "_rollup",
    "ROLLUP_FIELDS": "_rollup_fields",
    "RollupFieldSpec": "_rollup_fields",
    "ProcessTree": "_tree",
    "TreeProcess": "_tree",
    "TreeTotal": "_tree",
    "read_tree": "_tree",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib  # noqa: PLC0415  (only on first use of a lazy name)

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups find it directly
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0.dev0"

__all__ = [
    "FIELDS",
    "ROLLUP_FIELDS",
    "ROLLUP_LIMIT",
    "SMAPS_LIMIT",
    "Error",
    "FieldSpec",
    "FieldTypeError",
    "FieldValueError",
    "Ids",
    "Kind",
    "Memory",
    "PeakResetUnavailableError",
    "PeakTraceError",
    "PeakWindow",
    "ProcStatus",
    "ProcessNotFoundError",
    "ProcessRun",
    "ProcessTree",
    "ProcfsFileError",
    "ProcfsNotFoundError",
    "ProcfsPermissionError",
    "Rollup",
    "RollupError",
    "RollupFieldSpec",
    "RollupParseError",
    "RssLimitExceededError",
    "RunResult",
    "SigQ",
    "StatusParseError",
    "TaskState",
    "TreeProcess",
    "TreeSample",
    "TreeTotal",
    "Violation",
    "__version__",
    "check_invariants",
    "format_status",
    "iter_processes",
    "iter_rollups",
    "parse_memory",
    "parse_rollup",
    "parse_status",
    "read_memory",
    "read_pid",
    "read_rollup",
    "read_task",
    "read_tree",
    "reset_peak",
    "run_command",
    "thread_ids",
    "to_json_dict",
    "track_peak",
]
