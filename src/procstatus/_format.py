"""From a :class:`ProcStatus` back to the kernel's text. Pure.

Useful to build fake /proc trees in tests: ``format_status(status)`` writes
each field the way fs/proc/array.c prints it (``Key:<TAB>value``, memory in
kB padded to eight columns, masks in hexadecimal), in the status's own order,
so ``parse_status(format_status(s)) == s`` for every status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._fields import FIELDS
from ._model import ProcStatus

__all__ = ["format_fields", "format_status"]


def format_status(status: ProcStatus) -> str:
    """Render a status in the kernel's own format, one line per field, ending in a newline."""
    return format_fields(status)


def format_fields(fields: Mapping[str, Any]) -> str:
    """Render kernel-named values (typed, or text for unknown lines) as a status text."""
    lines = []
    for key, value in fields.items():
        spec = FIELDS.get(key)
        text = value if spec is None else spec.kind.render(value)
        lines.append(f"{key}:\t{text}\n")
    return "".join(lines)
