"""What the scripts that generate a file from a field table share.

scripts/fields_doc.py (docs/fields.md from ``procstatus.FIELDS``),
scripts/rollup_fields_doc.py (docs/rollup-fields.md from
``procstatus.ROLLUP_FIELDS``) and scripts/field_types.py (the typed blocks of
src/procstatus/_model.py) each render their file; this module writes it, or
with ``--check`` says whether the file in the tree is the one the table gives
(the tests run the check, so file and table cannot drift apart).
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["DOCS", "cell", "write_or_check"]

#: The documentation folder of the checkout the scripts belong to.
DOCS = Path(__file__).resolve().parent.parent / "docs"


def cell(text: str) -> str:
    """``text`` as one cell of a Markdown table: pipes escaped, on one line."""
    return text.replace("|", "\\|").replace("\n", " ")


def write_or_check(argv: list[str], page: Path, text: str, script: str) -> int:
    """Write ``text`` to ``page``, or with ``--check`` in ``argv`` compare: 0 or 1 (stale).

    ``script`` is how to run the generator, for the message of a stale page.
    """
    if "--check" in argv:
        if not page.exists() or page.read_text(encoding="utf-8") != text:
            print(f"{page} is stale: run python {script}", file=sys.stderr)
            return 1
        return 0
    page.write_text(text, encoding="utf-8")
    return 0
