"""A :class:`ProcStatus` as plain JSON values: the schema of ``procstatus --json``.

The schema is documented in docs/cli.md and stable: keys are the kernel's
names in file order, a line the kernel did not print is not a key, and each
value kind of ``_kinds.py`` has one JSON form. Numbers that can exceed 2**53
(signal and capability masks, untag_mask) stay hexadecimal strings as printed,
because JavaScript and jq 1.6 read JSON numbers as doubles and would round them.

Every value is wanted here, so all are made in one pass over the texts of the
lines, each straight to its JSON form (a number from its digits, a mask as its
text) without the Python value in between where none is needed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Optional

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


def _from_value(kind: _kinds.Kind, form: Callable[[Any], Any]) -> Callable[[str], Any]:
    convert = kind._convert
    return lambda text: form(convert(text))


def _state(value: _kinds.TaskState) -> dict[str, str]:
    return {"letter": _text(value.letter), "meaning": _text(value.meaning)}


def _as_object(value: tuple[int, ...]) -> dict[str, int]:
    return dict(zip(value._fields, value))  # type: ignore[attr-defined]  # Ids, SigQ: NamedTuples


#: The JSON form of each kind, from the text of a line; None: the text itself
#: (hexadecimal digits, which need no care for Unicode).
FORMS: dict[_kinds.Kind, Optional[Callable[[str], Any]]] = {
    _kinds.KB: _kinds.KB._convert,  # bytes
    _kinds.BYTES: _kinds.BYTES._convert,
    _kinds.INT: int,
    _kinds.OCTAL: _kinds.OCTAL._convert,
    _kinds.PERCENT: _kinds.PERCENT._convert,
    _kinds.BOOL: _kinds.BOOL._convert,
    _kinds.STATE: _from_value(_kinds.STATE, _state),
    _kinds.IDS: _from_value(_kinds.IDS, _as_object),
    _kinds.SIGQ: _from_value(_kinds.SIGQ, _as_object),
    _kinds.GROUPS: _from_value(_kinds.GROUPS, list),
    _kinds.TAB_LIST: _from_value(_kinds.TAB_LIST, list),
    _kinds.WORDS: _from_value(_kinds.WORDS, lambda words: [_text(word) for word in words]),
    _kinds.HEX_WORDS: _from_value(_kinds.HEX_WORDS, sorted),
    _kinds.RANGE_LIST: _from_value(_kinds.RANGE_LIST, sorted),
    _kinds.HEX_MASK: None,  # up to 128 bits (MIPS signal masks): as printed
    _kinds.HEX_NUMBER: None,  # untag_mask is 0xffffffffffffffff on x86: as printed
    _kinds.TEXT: _text,
    _kinds.NAME: _from_value(_kinds.NAME, _text),
}

#: The JSON form of each known line; unknown lines are text as printed.
_BY_KEY = {name: FORMS[spec.kind] for name, spec in FIELDS.items()}


def _plan_of(keys: tuple[str, ...]) -> tuple[tuple[str, Optional[Callable[[str], Any]]], ...]:
    """The JSON key and form of each line of a status of these keys."""
    return tuple((_text(key), _BY_KEY.get(key, _text)) for key in keys)


# A machine prints a few shapes (the fast path's templates): their plans are kept.
_plan_kept = lru_cache(maxsize=32)(_plan_of)


def to_json_dict(status: ProcStatus) -> dict[str, Any]:
    """``status`` as JSON-ready values keyed by kernel names, in file order.

    Memory is in bytes; see docs/cli.md for the form of every field. Lines the
    field table does not know are strings, exactly as printed. Every string, keys
    included, is valid Unicode: bytes that are not UTF-8 become U+FFFD.

    >>> from procstatus import parse_status
    >>> to_json_dict(parse_status("Name:\\tsh\\nState:\\tS (sleeping)\\nVmHWM:\\t 8 kB\\n"))
    {'Name': 'sh', 'State': {'letter': 'S', 'meaning': 'sleeping'}, 'VmHWM': 8192}
    """
    keys = status._keys
    plan = _plan_kept(keys) if len(keys) <= 128 else _plan_of(keys)
    result: dict[str, Any] = {}
    # Two keys that differ only in bytes that are not UTF-8 become one key here;
    # the last wins. Such names are damage, not kernel output.
    for (key, form), text in zip(plan, status._all_texts()):
        result[key] = text if form is None else form(text)
    return result
