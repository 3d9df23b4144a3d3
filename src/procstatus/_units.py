"""Sizes for people: IEC units (KiB, MiB, GiB) for the command line.

Powers of 1024 because the kernel counts memory in pages and prints it in
"kB" that are really KiB (task_mem() in fs/proc/task_mmu.c shifts page counts
by PAGE_SHIFT - 10); a decimal MB would not match anything else on the machine.
"""

from __future__ import annotations

__all__ = ["format_size", "show_size"]

_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def format_size(size: int) -> str:
    """``size`` bytes with one decimal in the largest unit that keeps it below 1024.

    >>> format_size(123456789), format_size(4096), format_size(512)
    ('117.7 MiB', '4.0 KiB', '512 B')
    """
    if size < 0:
        raise ValueError(f"a size cannot be negative: {size}")
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in _UNITS[:-1]:
        # Compare the rounded figure, so 1048575 bytes is "1.0 MiB", not "1024.0 KiB".
        if round(value, 1) < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} {_UNITS[-1]}"


def show_size(size: int, *, exact: bool = False) -> str:
    """``size`` for display: IEC units, or the exact number of bytes when ``exact``."""
    return str(size) if exact else format_size(size)
