"""Real smaps_rollup texts (tests/fixtures/rollup, see its INDEX.md): captured here and quoted.

Every line of every file is checked against its own text with small
independent code here, never with the library's converters.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from procstatus import ROLLUP_FIELDS, Rollup, parse_rollup
from procstatus._rollup import sum_smaps
from strategies import ROLLUP_FIXTURES, rollup_fixtures

FILES = rollup_fixtures()
assert len(FILES) >= 10, f"expected the rollup fixtures, found {len(FILES)} in {ROLLUP_FIXTURES}"

#: The kernel lines each text has, in order (as its INDEX.md describes the file).
QUOTED = {
    "android-perfetto-258": 17,  # 16 lines of 4.14-era kernels and the vendor Writeback line
    "centos8-prmon-219": 9,  # cut after LazyFree
    "ps-mem-80-php-fpm-a": 20,
    "ps-mem-80-php-fpm-b": 20,
    "cmsrun-wmcore-11667": 9,  # cut after Private_Dirty
    "lkml-thp-protnone": 9,  # the lines the reporter chose
}


def ids(paths: list[Path]) -> list[str]:
    return [path.stem for path in paths]


def independent_values(text: str) -> dict[str, int]:
    """``{key: bytes}`` for every ``Key: <n> kB`` line, by plain splitting."""
    values = {}
    for line in text.splitlines()[1:] if "[rollup]" in text.splitlines()[0] else text.splitlines():
        key, _, rest = line.partition(":")
        number, unit = rest.split()
        assert unit == "kB", line
        values[key] = int(number) * 1024
    return values


def test_every_quoted_text_is_in_the_folder() -> None:
    assert set(QUOTED) <= {path.stem for path in FILES}


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_every_line_is_read_exactly(path: Path) -> None:
    text = path.read_text(encoding="ascii")

    rollup = parse_rollup(path.read_bytes())

    values = independent_values(text)
    assert rollup.header == (text.splitlines()[0] if "[rollup]" in text else None)
    for key, value in values.items():
        if key in ROLLUP_FIELDS:
            assert getattr(rollup, ROLLUP_FIELDS[key].attribute) == value, key
        else:
            assert rollup.get(key) == f"{value // 1024} kB", key
    absent = [spec.attribute for name, spec in ROLLUP_FIELDS.items() if name not in values]
    assert all(getattr(rollup, attribute) is None for attribute in absent)


@pytest.mark.parametrize("path", FILES, ids=ids(FILES))
def test_uss_is_at_most_pss_and_pss_at_most_rss(path: Path) -> None:
    rollup = parse_rollup(path.read_bytes())

    assert rollup.rss is not None
    assert rollup.pss is not None
    assert rollup.pss <= rollup.rss
    if rollup.uss is not None:  # two quotes are cut before the Private lines
        assert rollup.uss <= rollup.pss
        values = independent_values(path.read_text(encoding="ascii"))
        assert rollup.uss == values["Private_Clean"] + values["Private_Dirty"] + values.get(
            "Private_Hugetlb", 0
        )


@pytest.mark.parametrize(("stem", "count"), QUOTED.items(), ids=list(QUOTED))
def test_quoted_texts_have_the_lines_their_kernel_prints(stem: str, count: int) -> None:
    rollup = parse_rollup((ROLLUP_FIXTURES / f"{stem}.rollup").read_bytes())

    printed = [field for field in attrs.fields(Rollup) if field.name in _ATTRIBUTES]
    known = sum(getattr(rollup, field.name) is not None for field in printed)
    assert known + len(rollup.unknown) == count


_ATTRIBUTES = {spec.attribute for spec in ROLLUP_FIELDS.values()}


def test_android_vendor_line_is_kept_in_its_place() -> None:
    rollup = parse_rollup((ROLLUP_FIXTURES / "android-perfetto-258.rollup").read_bytes())

    assert rollup.unknown == (("Writeback", "0 kB"),)
    assert (rollup.swap, rollup.swap_pss) == (35232 * 1024, 1194 * 1024)
    assert rollup.pss_anon is None  # printed since 5.3


def test_shared_region_shows_in_the_parent_capture() -> None:
    # scripts/capture_rollups.py: 16 MiB MAP_SHARED, touched by the parent and one child.
    rollup = parse_rollup((ROLLUP_FIXTURES / "shared-parent.rollup").read_bytes())

    assert rollup.shared_dirty is not None
    assert rollup.pss_shmem is not None
    assert rollup.shared_dirty >= 16 << 20
    assert rollup.pss_shmem >= 8 << 20


def test_locked_capture_counts_the_mlocked_region() -> None:
    rollup = parse_rollup((ROLLUP_FIXTURES / "locked.rollup").read_bytes())

    assert rollup.locked is not None
    assert rollup.locked >= 4 << 20


def test_smaps_sums_match_the_rollup_read_at_the_same_moment() -> None:
    rollup = parse_rollup((ROLLUP_FIXTURES / "child-idle.rollup").read_bytes())
    smaps = (ROLLUP_FIXTURES / "child-idle.smaps").read_bytes()
    mappings = sum(1 for line in smaps.split(b"\n") if b" kB" not in line and b"-" in line[:17])

    summed = sum_smaps(smaps)

    assert summed is not None
    for name, spec in ROLLUP_FIELDS.items():
        ours, kernel = getattr(summed, spec.attribute), getattr(rollup, spec.attribute)
        if not spec.in_smaps:
            assert ours is None, name
        elif name in {"Pss", "Pss_Dirty", "SwapPss", "Locked"}:
            # Proportional values are rounded down to whole kB per mapping in
            # smaps, once for the whole process in the rollup.
            assert kernel - mappings * 1024 <= ours <= kernel, name
        else:
            assert ours == kernel, name
