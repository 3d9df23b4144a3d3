"""A :class:`ProcStatus` as plain JSON values: the schema of ``procstatus --json``.

The schema is documented in docs/cli.md and stable: keys are the kernel's
names in file order, a line the kernel did not print is not a key, and each
value kind of ``_kinds.py`` has one JSON form. Numbers that can exceed 2**53
(signal and capability masks, untag_mask) stay hexadecimal strings as printed,
because JavaScript and jq 1.6 read JSON numbers as doubles and would round them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import _kinds
from ._fields import FIELDS

if TYPE_CHECKING:
    from ._model import ProcStatus

__all__ = ["to_json_dict"]


def _name(value: str) -> str:
    # parse_status keeps bytes that are not UTF-8 as lone surrogates
    # (surrogateescape); JSON text must be valid Unicode, so they become U+FFFD.
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _as_int(value: int) -> int:
    return value


def _as_list(value: tuple[Any, ...]) -> list[Any]:
    return list(value)


def _as_sorted(value: frozenset[int]) -> list[int]:
    return sorted(value)


def _as_object(value: tuple[int, ...]) -> dict[str, int]:
    return dict(value._asdict())  # type: ignore[attr-defined]  # Ids and SigQ are NamedTuples


def _state(value: _kinds.TaskState) -> dict[str, str]:
    return {"letter": value.letter, "meaning": value.meaning}


#: How a typed value becomes JSON, per kind. None: the text as printed.
_CONVERTERS: dict[_kinds.Kind, Callable[[Any], Any] | None] = {
    _kinds.KB: _as_int,  # bytes
    _kinds.BYTES: _as_int,
    _kinds.INT: _as_int,
    _kinds.OCTAL: _as_int,
    _kinds.PERCENT: _as_int,
    _kinds.BOOL: bool,
    _kinds.STATE: _state,
    _kinds.IDS: _as_object,
    _kinds.SIGQ: _as_object,
    _kinds.GROUPS: _as_list,
    _kinds.TAB_LIST: _as_list,
    _kinds.WORDS: _as_list,
    _kinds.HEX_WORDS: _as_sorted,
    _kinds.RANGE_LIST: _as_sorted,
    _kinds.HEX_MASK: None,  # up to 128 bits (MIPS signal masks)
    _kinds.HEX_NUMBER: None,  # untag_mask is 0xffffffffffffffff on x86
    _kinds.TEXT: None,
    _kinds.NAME: _name,
}


def to_json_dict(status: ProcStatus) -> dict[str, Any]:
    """``status`` as JSON-ready values keyed by kernel names, in file order.

    Memory is in bytes; see docs/cli.md for the form of every field. Lines the
    field table does not know are strings, exactly as printed.

    >>> from procstatus import parse_status
    >>> to_json_dict(parse_status("Name:\\tsh\\nState:\\tS (sleeping)\\nVmHWM:\\t 8 kB\\n"))
    {'Name': 'sh', 'State': {'letter': 'S', 'meaning': 'sleeping'}, 'VmHWM': 8192}
    """
    result: dict[str, Any] = {}
    for key in status:
        spec = FIELDS.get(key)
        convert = None if spec is None else _CONVERTERS.get(spec.kind)
        result[key] = status.raw(key) if convert is None else convert(status[key])
    return result
