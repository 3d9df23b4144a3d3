"""The rollup field table agrees with the Rollup model, a 6.18 capture and docs/rollup-fields.md."""

from __future__ import annotations

from pathlib import Path

import attrs

from helpers_files import load_script
from procstatus import ROLLUP_FIELDS, Rollup

ROOT = Path(__file__).resolve().parent.parent
SELF_CAPTURE = ROOT / "tests" / "fixtures" / "rollup" / "self.rollup"

#: The lines each release added to smaps_rollup, by the kernel sources (see the table's rows).
ADDED = {
    "4.14": [
        "Rss",
        "Pss",
        "Shared_Clean",
        "Shared_Dirty",
        "Private_Clean",
        "Private_Dirty",
        "Referenced",
        "Anonymous",
        "LazyFree",
        "AnonHugePages",
        "ShmemPmdMapped",
        "Shared_Hugetlb",
        "Private_Hugetlb",
        "Swap",
        "SwapPss",
        "Locked",
    ],
    "5.3": ["Pss_Anon", "Pss_File", "Pss_Shmem"],
    "5.4": ["FilePmdMapped"],
    "6.0": ["Pss_Dirty"],
    "6.6": ["KSM"],
}


def test_the_table_has_every_line_of_a_6_18_rollup_in_print_order() -> None:
    lines = SELF_CAPTURE.read_text(encoding="ascii").splitlines()[1:]
    assert [line.partition(":")[0] for line in lines] == list(ROLLUP_FIELDS)


def test_each_line_came_with_the_release_the_table_says() -> None:
    by_release = {
        release: [name for name, spec in ROLLUP_FIELDS.items() if spec.since == release]
        for release in ADDED
    }
    assert by_release == ADDED
    assert all(spec.removed is None for spec in ROLLUP_FIELDS.values())


def test_only_the_pss_split_is_missing_from_smaps() -> None:
    rollup_only = [name for name, spec in ROLLUP_FIELDS.items() if not spec.in_smaps]
    assert rollup_only == ["Pss_Anon", "Pss_File", "Pss_Shmem"]


def test_every_row_says_where_its_facts_come_from() -> None:
    for spec in ROLLUP_FIELDS.values():
        assert "fs/proc/task_mmu.c" in spec.source, spec.name
        assert spec.description, spec.name
        assert spec.unit == "bytes"


def test_rollup_attributes_are_the_table_attributes_in_order() -> None:
    fields = [field.name for field in attrs.fields(Rollup)]
    assert fields == [
        "header",
        *(spec.attribute for spec in ROLLUP_FIELDS.values()),
        "unknown",
        "from_smaps",
    ]


def test_docs_rollup_fields_page_is_generated_from_the_table() -> None:
    module = load_script("rollup_fields_doc")
    page = (ROOT / "docs" / "rollup-fields.md").read_text(encoding="utf-8")
    assert page == module.render(), "stale: run python scripts/rollup_fields_doc.py"
