"""A :class:`ProcStatus` as plain JSON values: the schema of ``procstatus --json``.

The schema is documented in docs/cli.md and stable: keys are the kernel's
names in file order, a line the kernel did not print is not a key, and each
value kind of ``_kinds.py`` has one JSON form. Numbers that can exceed 2**53
(signal and capability masks, untag_mask) stay hexadecimal strings as printed,
because JavaScript and jq 1.6 read JSON numbers as doubles and would round them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import _kinds
from ._fields import FIELDS

if TYPE_CHECKING:
    from ._model import ProcStatus

__all__ = ["to_json_dict"]


# Any surrogate code point: parse_status keeps bytes that are not UTF-8 as lone
# surrogates (surrogateescape, one per byte), and a str given to it may hold any.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: str) -> str:
    """``value`` as valid Unicode: each surrogate becomes U+FFFD.

    json.dumps would write a lone surrogate as a ``\\udcff`` escape, which is not
    valid JSON text (RFC 8259 section 8.2) and which strict parsers refuse.
    """
    return value if value.isascii() else _SURROGATE.sub("\ufffd", value)


def _words(value: tuple[str, ...]) -> list[str]:
    return [_text(word) for word in value]


def _as_object(value: tuple[int, ...]) -> dict[str, int]:
    return dict(value._asdict())  # type: ignore[attr-defined]  # Ids and SigQ are NamedTuples


def _state(value: _kinds.TaskState) -> dict[str, str]:
    return {"letter": _text(value.letter), "meaning": _text(value.meaning)}


#: How a typed value becomes JSON, per kind. None: the text as printed.
_CONVERTERS: dict[_kinds.Kind, Callable[[Any], Any] | None] = {
    _kinds.KB: int,  # bytes
    _kinds.BYTES: int,
    _kinds.INT: int,
    _kinds.OCTAL: int,
    _kinds.PERCENT: int,
    _kinds.BOOL: bool,
    _kinds.STATE: _state,
    _kinds.IDS: _as_object,
    _kinds.SIGQ: _as_object,
    _kinds.GROUPS: list,
    _kinds.TAB_LIST: list,
    _kinds.WORDS: _words,
    _kinds.HEX_WORDS: sorted,
    _kinds.RANGE_LIST: sorted,
    _kinds.HEX_MASK: None,  # up to 128 bits (MIPS signal masks)
    _kinds.HEX_NUMBER: None,  # untag_mask is 0xffffffffffffffff on x86
    _kinds.TEXT: None,
    _kinds.NAME: _text,
}


def to_json_dict(status: ProcStatus) -> dict[str, Any]:
    """``status`` as JSON-ready values keyed by kernel names, in file order.

    Memory is in bytes; see docs/cli.md for the form of every field. Lines the
    field table does not know are strings, exactly as printed. Every string, keys
    included, is valid Unicode: bytes that are not UTF-8 become U+FFFD.

    >>> from procstatus import parse_status
    >>> to_json_dict(parse_status("Name:\\tsh\\nState:\\tS (sleeping)\\nVmHWM:\\t 8 kB\\n"))
    {'Name': 'sh', 'State': {'letter': 'S', 'meaning': 'sleeping'}, 'VmHWM': 8192}
    """
    result: dict[str, Any] = {}
    for key in status:
        spec = FIELDS.get(key)
        convert = None if spec is None else _CONVERTERS.get(spec.kind)
        # Two keys that differ only in bytes that are not UTF-8 become one key here;
        # the last wins. Such names are damage, not kernel output.
        result[_text(key)] = _text(status.raw(key)) if convert is None else convert(status[key])
    return result
