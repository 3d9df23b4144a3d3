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
from typing import Any, Optional

from . import _kinds
from ._fastpath import learnable
from ._fields import FIELDS, MEMORY_FIELDS
from ._model import ProcStatus, require_status

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


# The JSON form of each kind straight from the text of its line (a call less
# than converting to the Python value first, for a form made on every read).
_state = _kinds.STATE._convert
_ids = _kinds.IDS._convert
_groups = _kinds.GROUPS._convert
_bits = _kinds.HEX_WORDS._convert
_ranges = _kinds.RANGE_LIST._convert
_words = _kinds.WORDS._convert
_name = _kinds.NAME._convert
_IDS_FIELDS = _kinds.Ids._fields
_SIGQ_FIELDS = _kinds.SigQ._fields


def _state_form(text: str) -> dict[str, str]:
    state = _state(text)
    return {"letter": _text(state.letter), "meaning": _text(state.meaning)}


def _ids_form(text: str) -> dict[str, int]:
    return dict(zip(_IDS_FIELDS, _ids(text)))


def _sigq_form(text: str) -> dict[str, int]:
    return dict(zip(_SIGQ_FIELDS, map(int, text.split("/"))))


def _groups_form(text: str) -> list[int]:
    return list(_groups(text))


def _tab_list_form(text: str) -> list[int]:
    return list(map(int, text.split()))


def _words_form(text: str) -> list[str]:
    return [_text(word) for word in _words(text)]


def _bits_form(text: str) -> list[int]:
    return sorted(_bits(text))


def _ranges_form(text: str) -> list[int]:
    return sorted(_ranges(text))


def _name_form(text: str) -> str:
    return _text(_name(text))


#: The JSON form of each kind, from the text of a line; None: the text itself
#: (hexadecimal digits, which need no care for Unicode).
FORMS: dict[_kinds.Kind, Optional[Callable[[str], Any]]] = {
    _kinds.KB: _kinds.KB._convert,  # bytes
    _kinds.BYTES: _kinds.BYTES._convert,
    _kinds.INT: int,
    _kinds.OCTAL: _kinds.OCTAL._convert,
    _kinds.PERCENT: _kinds.PERCENT._convert,
    _kinds.BOOL: _kinds.BOOL._convert,
    _kinds.STATE: _state_form,
    _kinds.IDS: _ids_form,
    _kinds.SIGQ: _sigq_form,
    _kinds.GROUPS: _groups_form,
    _kinds.TAB_LIST: _tab_list_form,
    _kinds.WORDS: _words_form,
    _kinds.HEX_WORDS: _bits_form,
    _kinds.RANGE_LIST: _ranges_form,
    _kinds.HEX_MASK: None,  # up to 128 bits (MIPS signal masks): as printed
    _kinds.HEX_NUMBER: None,  # untag_mask is 0xffffffffffffffff on x86: as printed
    _kinds.TEXT: _text,
    _kinds.NAME: _name_form,
}

#: The JSON form of each known line; unknown lines are text as printed.
_BY_KEY = {name: FORMS[spec.kind] for name, spec in FIELDS.items()}


#: Where each memory line's value is in a Memory.
_IN_MEMORY = {spec.name: index for index, spec in enumerate(MEMORY_FIELDS)}

_Plan = tuple[tuple[tuple[str, Optional[Callable[[str], Any]]], ...], tuple[tuple[str, int], ...]]


def _plan_of(keys: tuple[str, ...]) -> _Plan:
    """The JSON key and form of each line of a status of these keys.

    Memory lines are taken from ``status.memory``: the fast path reads the whole
    block in one match (or gives back the last one), cheaper than one
    conversion per line.
    """
    forms = tuple(
        (_text(key), None if key in _IN_MEMORY else _BY_KEY.get(key, _text)) for key in keys
    )
    memory = tuple((key, _IN_MEMORY[key]) for key in keys if key in _IN_MEMORY)
    return forms, memory


# A machine prints a few shapes (the fast path's templates): their plans are kept,
# for shapes the fast path would learn (a plan holds its keys).
_plan_kept = lru_cache(maxsize=32)(_plan_of)


def to_json_dict(status: ProcStatus) -> dict[str, Any]:
    """``status`` as JSON-ready values keyed by kernel names, in file order.

    Memory is in bytes; see docs/cli.md for the form of every field. Lines the
    field table does not know are strings, exactly as printed. Every string, keys
    included, is valid Unicode: bytes that are not UTF-8 become U+FFFD. Raises
    TypeError for anything but a :class:`ProcStatus`.

    >>> from procstatus import parse_status
    >>> to_json_dict(parse_status("Name:\\tsh\\nState:\\tS (sleeping)\\nVmHWM:\\t 8 kB\\n"))
    {'Name': 'sh', 'State': {'letter': 'S', 'meaning': 'sleeping'}, 'VmHWM': 8192}
    """
    require_status(status, "to_json_dict")
    keys = status._keys
    # A status the fast path matched has the keys of a learned shape: no need to
    # add up their lengths again (a microsecond, a tenth of this function).
    kept = status._layout is not None or learnable(keys)
    forms, in_memory = _plan_kept(keys) if kept else _plan_of(keys)
    result: dict[str, Any] = {}
    # Two keys that differ only in bytes that are not UTF-8 become one key here;
    # the last wins. Such names are damage, not kernel output.
    for (key, form), text in zip(forms, status._all_texts()):
        result[key] = text if form is None else form(text)
    if in_memory:
        memory = status.memory
        for key, index in in_memory:
            result[key] = memory[index]  # type: ignore[index]  # memory lines make a Memory
    return result
