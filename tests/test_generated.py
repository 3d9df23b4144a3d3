"""scripts/_generated.py: what the generators of docs/fields.md, docs/rollup-fields.md and
_model.py's typed blocks share: writing the file, or checking that the table gives it."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers_files import load_script

generated = load_script("_generated")


def test_without_check_the_page_is_written(tmp_path: Path) -> None:
    page = tmp_path / "page.md"

    assert generated.write_or_check([], page, "# Table\n", "scripts/x.py") == 0
    assert page.read_text(encoding="utf-8") == "# Table\n"


def test_check_passes_for_a_current_page(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Table\n", encoding="utf-8")

    assert generated.write_or_check(["--check"], page, "# Table\n", "scripts/x.py") == 0


@pytest.mark.parametrize("on_disk", [None, "# Old table\n"], ids=["missing", "stale"])
def test_check_fails_for_a_missing_or_stale_page_and_leaves_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], on_disk: str | None
) -> None:
    page = tmp_path / "page.md"
    if on_disk is not None:
        page.write_text(on_disk, encoding="utf-8")

    assert generated.write_or_check(["--check"], page, "# Table\n", "scripts/x.py") == 1
    assert capsys.readouterr().err == f"{page} is stale: run python scripts/x.py\n"
    assert (page.read_text(encoding="utf-8") if page.exists() else None) == on_disk


def test_a_cell_stays_one_cell() -> None:
    assert generated.cell("a | b\nc") == "a \\| b c"


@pytest.mark.parametrize("script", ["fields_doc", "rollup_fields_doc", "field_types"])
def test_every_generator_checks_its_file(script: str) -> None:
    assert load_script(script).main(["--check"]) == 0
