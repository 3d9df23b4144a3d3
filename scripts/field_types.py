"""Write the typed attributes and key overloads of ProcStatus from the field table.

    python scripts/field_types.py          # rewrite the generated blocks of _model.py
    python scripts/field_types.py --check  # exit 1 when they are stale

Two blocks of _model.py are generated, so that type checkers know the type of
every field however it is read: the ``Literal`` aliases of the kernel names,
grouped by the Python type of their value, and in the class, the attributes
and the overloads of ``__getitem__`` and ``get`` (``status["VmHWM"]`` is an
``int``, ``status.get("VmHWM")`` an ``Optional[int]``). tests/test_fields.py runs
the check, so the model and the table cannot drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _generated import write_or_check

from procstatus import FIELDS, _model

# The module as imported: src/procstatus/_model.py in a checkout (an editable
# install), the installed copy when the tests run against the wheel.
MODEL = Path(_model.__file__)

#: The alias of the kernel names whose values have each Python type.
ALIASES = {
    "str": "_StrKey",
    "int": "_IntKey",
    "bool": "_BoolKey",
    "TaskState": "_TaskStateKey",
    "Ids": "_IdsKey",
    "SigQ": "_SigQKey",
    "tuple[int, ...]": "_IntTupleKey",
    "tuple[str, ...]": "_StrTupleKey",
    "frozenset[int]": "_IntSetKey",
}

KEYS = "KEYS"
FIELD_LINES = "FIELDS"
GET = "GET"


def _begin(block: str) -> str:
    return f"# BEGIN GENERATED {block} (scripts/field_types.py writes it from procstatus.FIELDS)"


def _end(block: str) -> str:
    return f"# END GENERATED {block}"


def groups() -> dict[str, list[str]]:
    """Kernel names by the Python type of their value, in table order."""
    by_type: dict[str, list[str]] = {}
    for spec in FIELDS.values():
        if spec.kind.python_type not in ALIASES:
            raise SystemExit(f"add an alias for {spec.kind.python_type!r} to ALIASES")
        by_type.setdefault(spec.kind.python_type, []).append(spec.name)
    return by_type


def render_keys() -> str:
    """The module-level aliases (ruff's format: one name a line, trailing comma).

    They are for type checkers only: with ``from __future__ import annotations``
    nothing evaluates them at run time, so importing procstatus does not build them.
    """
    parts = ["if TYPE_CHECKING:\n"]
    for python_type, names in groups().items():
        parts.append(f"    #: Kernel names whose value is ``{python_type}``.\n")
        if len(names) == 1:
            parts.append(f'    {ALIASES[python_type]} = Literal["{names[0]}"]\n')
        else:
            listed = "".join(f'        "{name}",\n' for name in names)
            parts.append(f"    {ALIASES[python_type]} = Literal[\n{listed}    ]\n")
    return "".join(parts)


def render_fields() -> str:
    """The attributes and the overloads of ``__getitem__``, in the class body."""
    lines = []
    for spec in FIELDS.values():
        if spec.attribute is not None:
            lines.append(f"    {spec.attribute} = _Field[Optional[{spec.kind.python_type}]]()\n")
    for python_type in groups():
        alias = ALIASES[python_type]
        lines.append(
            f"\n    @overload\n    def __getitem__(self, key: {alias}) -> {python_type}: ...\n"
        )
    lines.append("\n    @overload\n    def __getitem__(self, key: str) -> Any: ...\n\n")
    return "".join(lines)


def render_get() -> str:
    """The overloads of ``get``, in the class body."""
    # mypy matches the overloads of an override against Mapping.get's one by one
    # and refuses narrower first items; typeshed's own dict.get is declared so too.
    lines = ["    # Narrower than Mapping.get by key, which mypy cannot match item by item.\n"]
    for number, python_type in enumerate(groups()):
        alias = ALIASES[python_type]
        ignore = "  # type: ignore[override]" if number == 0 else ""
        lines.append(
            f"    @overload{ignore}\n    def get(self, key: {alias}, default: None = None)"
            f" -> Optional[{python_type}]: ...\n\n"
            f"    @overload\n    def get(self, key: {alias}, default: _T)"
            f" -> Union[{python_type}, _T]: ...\n\n"
        )
    lines.append("    @overload\n    def get(self, key: str, default: Any = None) -> Any: ...\n\n")
    return "".join(lines)


def _replace_block(source: str, block: str, body: str, indent: str) -> str:
    begin = indent + _begin(block) + "\n"
    end = indent + _end(block) + "\n"
    head, found, rest = source.partition(begin)
    _, found_end, tail = rest.partition(end)
    if not found or not found_end:
        raise SystemExit(f"{MODEL} has no generated block {block}")
    return head + begin + body + end + tail


def render(source: str) -> str:
    """``source`` (the text of _model.py) with both blocks generated afresh."""
    source = _replace_block(source, KEYS, render_keys(), "")
    source = _replace_block(source, FIELD_LINES, render_fields(), "    ")
    return _replace_block(source, GET, render_get(), "    ")


def main(argv: list[str]) -> int:
    fresh = render(MODEL.read_text(encoding="utf-8"))
    return write_or_check(argv, MODEL, fresh, "scripts/field_types.py")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
