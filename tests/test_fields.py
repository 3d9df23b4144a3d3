"""The field table agrees with the reference, the model and docs/fields.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers_files import PROJECT_DIR, REFERENCE, load_script, require
from procstatus import FIELDS, Memory, ProcStatus, _model
from procstatus._fields import BY_ATTRIBUTE, MEMORY_FIELDS
from procstatus._model import _Field

# The reference names the s390 line without the space the kernel prints before
# its colon ("User PSW : ..."); the table keys by the exact text before ':'.
RENAMED = {"User PSW": "User PSW "}

# Reference kinds and the table's kinds that realise them.
KINDS = {
    "str": {"name", "percent", "text", "words", "bytes"},
    "int": {"int", "octal"},
    "state": {"state"},
    "id_quad": {"ids"},
    "int_list": {"groups", "tab_list"},
    "bool_int": {"bool"},
    "kb": {"kb"},
    "hex_mask": {"hex_mask", "hex_number"},
    "ratio": {"sigq"},
    "enum_text": {"text"},
    "hex_words": {"hex_words"},
    "range_list": {"range_list"},
}


def _reference() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(require(REFERENCE).read_text(encoding="utf-8"))
    return rows


def test_every_reference_row_is_in_the_table_with_its_versions_and_kind() -> None:
    for row in _reference():
        spec = FIELDS[RENAMED.get(row["name"], row["name"])]
        assert (spec.since, spec.removed) == (row["since"], row["removed"]), row["name"]
        assert spec.kind.name in KINDS[row["kind"]], row["name"]
        assert spec.mainline


def test_every_mainline_row_of_the_table_is_in_the_reference() -> None:
    names = {RENAMED.get(row["name"], row["name"]) for row in _reference()}
    mainline = {spec.name for spec in FIELDS.values() if spec.mainline}
    assert mainline == names


def test_vendor_rows_have_no_mainline_versions() -> None:
    vendor = [spec for spec in FIELDS.values() if not spec.mainline]
    assert [spec.name for spec in vendor] == ["StaBrk", "Brk", "StaStk", "ExecLim"]
    assert all(spec.since is None and spec.removed is None for spec in vendor)


def test_every_row_says_where_its_facts_come_from() -> None:
    for spec in FIELDS.values():
        assert spec.source, spec.name
        assert spec.description, spec.name
        assert spec.printed, spec.name


def test_model_attributes_are_exactly_the_table_attributes() -> None:
    attributes = {name for name, value in vars(ProcStatus).items() if isinstance(value, _Field)}
    assert attributes == set(BY_ATTRIBUTE)


def test_memory_fields_are_the_kb_rows_in_print_order() -> None:
    assert list(Memory._fields) == [spec.attribute for spec in MEMORY_FIELDS]
    assert all(spec.unit == "bytes" for spec in MEMORY_FIELDS)


def test_docs_fields_page_is_generated_from_the_table() -> None:
    module = load_script("fields_doc")
    page = require(PROJECT_DIR / "docs" / "fields.md").read_text(encoding="utf-8")
    assert page == module.render(), "docs/fields.md is stale: run python scripts/fields_doc.py"


def test_typed_keys_of_the_model_are_generated_from_the_table() -> None:
    # The attributes and the overloads of __getitem__ and get (so that mypy knows
    # status["VmHWM"] is an int) are written by scripts/field_types.py. The module
    # checked is the one imported: the source tree's, or an installed wheel's.
    source = Path(_model.__file__).read_text(encoding="utf-8")
    fresh = load_script("field_types").render(source)
    assert source == fresh, "_model.py is stale: run python scripts/field_types.py"


def test_every_field_type_has_its_key_alias() -> None:
    module = load_script("field_types")
    grouped = module.groups()
    assert sorted(name for names in grouped.values() for name in names) == sorted(FIELDS)
    for python_type, names in grouped.items():
        assert {FIELDS[name].kind.python_type for name in names} == {python_type}
