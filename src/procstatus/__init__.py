"""Read Linux /proc/PID/status exactly: current and peak memory, ids, signals, capabilities.

The parsing core (:func:`parse_status`) is pure; :func:`read_pid` and friends are a
thin layer that reads files under a proc root and hands the bytes to it.
"""

from __future__ import annotations

from ._errors import (
    Error,
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
from ._read_rollup import ROLLUP_LIMIT, SMAPS_LIMIT, RollupError, iter_rollups, read_rollup
from ._rollup import Rollup, parse_rollup
from ._rollup_fields import ROLLUP_FIELDS, RollupFieldSpec
from ._run import RunResult, run_command
from ._tree import ProcessTree, TreeProcess, TreeTotal, read_tree

__version__ = "0.1.0.dev0"

__all__ = [
    "FIELDS",
    "ROLLUP_FIELDS",
    "ROLLUP_LIMIT",
    "SMAPS_LIMIT",
    "Error",
    "FieldSpec",
    "Ids",
    "Kind",
    "Memory",
    "PeakResetUnavailableError",
    "PeakTraceError",
    "PeakWindow",
    "ProcStatus",
    "ProcessNotFoundError",
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
