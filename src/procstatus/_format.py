"""From a :class:`ProcStatus` back to the kernel's text. Pure.

Useful to build fake /proc trees in tests: ``format_status(status)`` writes
each field the way fs/proc/array.c prints it (``Key:<TAB>value``, memory in
kB padded to eight columns, masks in hexadecimal), in the status's own order,
so ``parse_status(format_status(s)) == s`` for every status. Each value is
written by its kind (``Kind._write`` in ``_kinds.py``), the same code that
checks the values of ``ProcStatus.from_fields`` and ``replace``.
"""

from __future__ import annotations

from ._fields import FIELDS
from ._kinds import TEXT
from ._model import ProcStatus, require_status

__all__ = ["format_status"]


def format_status(status: ProcStatus) -> str:
    """Render a status in the kernel's own format, one line per field, ending in a newline.

    Raises TypeError for anything but a :class:`ProcStatus`.
    """
    require_status(status, "format_status")
    lines = []
    for key, value in status.items():
        spec = FIELDS.get(key)
        kind = TEXT if spec is None else spec.kind  # unknown lines are text
        lines.append(f"{key}:\t{kind._write(value)}\n")
    return "".join(lines)
