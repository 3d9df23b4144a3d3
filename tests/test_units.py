"""IEC sizes for the command line: procstatus._units."""

from __future__ import annotations

import pytest

from procstatus._units import format_size, show_size


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (4096, "4.0 KiB"),
        (1024 * 1023, "1023.0 KiB"),
        # 1048575 bytes is 1023.999 KiB: rounding must move it up a unit.
        (1024 * 1024 - 1, "1.0 MiB"),
        (1024 * 1024, "1.0 MiB"),
        (123456789, "117.7 MiB"),
        (3 * 1024**3 + 512 * 1024**2, "3.5 GiB"),
        (1024**4, "1.0 TiB"),
        (1024**5, "1.0 PiB"),
        (1024**6, "1.0 EiB"),
        (2**64 - 1, "16.0 EiB"),  # the largest VmSize an unsigned long can hold
        (1024**7, "1024.0 EiB"),  # beyond the largest unit: the number grows instead
    ],
    ids=str,
)
def test_format_size(size: int, expected: str) -> None:
    assert format_size(size) == expected


def test_format_size_refuses_negative() -> None:
    with pytest.raises(ValueError, match=r"^a size cannot be negative: -1$"):
        format_size(-1)


@pytest.mark.parametrize(
    ("exact", "expected"),
    [(False, "1.9 MiB"), (True, "1990656")],
    ids=["iec", "exact"],
)
def test_show_size(exact: bool, expected: str) -> None:
    assert show_size(1990656, exact=exact) == expected
