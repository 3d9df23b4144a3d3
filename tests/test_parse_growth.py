"""Every input costs time in proportion to its size: long lines grown 16-fold cost at most ~40x.

A status can hold very long lines (65,536 groups, 256 words of CPU mask, a
process name, a file of anything given to ``--file``), and a monitor reads every
process of a machine: one process must not be able to make a scan slow. Each
case grows one line (or a run of lines) 16-fold and compares the cost of
parsing, and of reading every value, within one run: linear growth is 16x,
quadratic growth 256x. The bound, 2.5 times linear, leaves room for a noisy
machine; nothing else about speed is asserted here (see benchmarks/bench.py).

The texts with a learned shape are broken *after* the long line, so that the
fast path's template is tried and fails there: the case that used to backtrack
through every way of splitting the groups between two loops.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest

from procstatus import StatusParseError, _fastpath, parse_memory, parse_status, to_json_dict

GROWTH = 16
#: At most this many times linear growth (16 x 2.5 = 40x for a 16-fold input).
SLACK = 2.5

BASE = (Path(__file__).parent / "fixtures" / "self.status").read_text(encoding="utf-8")
#: The last-but-one line, after every long line: broken, it makes a template fail late.
LATE_LINE = "voluntary_ctxt_switches:\t0\n"
BROKEN_LATE_LINE = "voluntary_ctxt_switches:\tnone\n"


@pytest.fixture(autouse=True)
def cold_caches() -> Iterator[None]:
    _fastpath.clear()
    yield
    _fastpath.clear()


def with_line(key: str, value: str) -> str:
    """The base text with the line ``key`` set to ``value`` (added before the late line)."""
    lines = BASE.splitlines(keepends=True)
    for number, line in enumerate(lines):
        if line.startswith(f"{key}:"):
            lines[number] = f"{key}:\t{value}\n"
            return "".join(lines)
    at = lines.index(LATE_LINE)
    return "".join([*lines[:at], f"{key}:\t{value}\n", *lines[at:]])


def cost(text: str) -> None:
    """What a caller does with a text: parse it and read every value, or get the error."""
    try:
        status = parse_status(text)
    except StatusParseError:
        pass
    else:
        dict(status.items())
        assert status.memory == parse_memory(text)


def seconds(text: str, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        cost(text)
    return (time.perf_counter() - start) / repeat


def growth(small: str, big: str) -> float:
    """How many times the cost of ``big`` is that of ``small``: best of interleaved rounds.

    The garbage collector is held off while timing: its passes come at moments
    that depend on everything else the process holds, not on the parser.
    """
    repeat = 1
    while seconds(small, repeat) * repeat < 0.004 and repeat < 1 << 12:
        repeat *= 2
    best_small = best_big = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(7):
            best_small = min(best_small, seconds(small, repeat))
            best_big = min(best_big, seconds(big, max(1, repeat // GROWTH)))
    finally:
        gc.enable()
    return best_big / best_small


def assert_linear(small: str, big: str) -> None:
    ratio = growth(small, big)
    assert ratio <= GROWTH * SLACK, f"{GROWTH}x the input took {ratio:.1f}x the time"


# Long lines of a known shape: valid (the fast path takes them), and broken after
# the long line (the template is tried, fails late, and the exact path reports it).

LONG_LINES: list[tuple[str, str, Callable[[int], str], int]] = [
    ("groups", "Groups", lambda n: "".join(f"{1000 + i} " for i in range(n)), 4000),
    (
        "groups-ten-digits",
        "Groups",
        lambda n: "".join(f"{4000000000 + i} " for i in range(n)),
        2000,
    ),
    (  # grown to the longest list a kernel prints: every other CPU of 8192
        "cpus-allowed-list",
        "Cpus_allowed_list",
        lambda n: ",".join(str(2 * i) for i in range(n)),
        256,
    ),
    (  # grown to the widest mask: 8192 bits (NR_CPUS)
        "mems-allowed",
        "Mems_allowed",
        lambda n: ",".join(["1"] + ["00000001"] * (n - 1)),
        16,
    ),
    ("nspid", "NSpid", lambda n: "\t".join(str(i) for i in range(n)), 2000),
    (
        "x86-thread-features",
        "x86_Thread_features",
        lambda n: "".join(f"w{i} " for i in range(n)),
        3000,
    ),
    ("name", "Name", lambda n: "a\\nb\\\\ c" * n, 4000),
]


@pytest.mark.parametrize(
    ("key", "value", "size"),
    [case[1:] for case in LONG_LINES],
    ids=[case[0] for case in LONG_LINES],
)
@pytest.mark.parametrize("broken", [False, True], ids=["valid", "broken-after-it"])
def test_a_long_line_costs_in_proportion(
    key: str, value: Callable[[int], str], size: int, broken: bool
) -> None:
    shape = with_line(key, value(2))
    for _ in range(2):
        parse_status(shape)  # learned: the template of this shape is tried first
    assert _fastpath.TEMPLATES.find(shape.count("\n"))

    small, big = with_line(key, value(size)), with_line(key, value(size * GROWTH))
    if broken:
        small, big = (text.replace(LATE_LINE, BROKEN_LATE_LINE) for text in (small, big))
        with pytest.raises(StatusParseError, match="voluntary_ctxt_switches"):
            parse_status(big)
    else:
        parse_status(big)
    assert_linear(small, big)


# Texts no template takes: the exact path alone.

MANY_LINES: list[tuple[str, Callable[[int], str], int]] = [
    ("unknown-lines", lambda n: BASE + "".join(f"Extra{i}:\tsome text\n" for i in range(n)), 1000),
    ("blank-lines", lambda n: BASE.replace("Umask:", "\n" * n + "Umask:"), 20000),
    (
        "continuation-lines",
        lambda n: BASE + "User GPRS:\t00000000\n" + "           00000000 00000001\n" * n,
        1000,
    ),
    (
        "overlapping-ranges",  # refused at the second range: conversion never starts
        lambda n: with_line("Cpus_allowed_list", ",".join(["0-8191"] * n)),
        100,
    ),
    ("one-long-unknown-line", lambda n: BASE + "Extra:\t" + "x " * n + "\n", 20000),
]


@pytest.mark.parametrize(
    ("make", "size"),
    [case[1:] for case in MANY_LINES],
    ids=[case[0] for case in MANY_LINES],
)
def test_many_lines_cost_in_proportion(make: Callable[[int], str], size: int) -> None:
    assert_linear(make(size), make(size * GROWTH))


# Memory: a parse holds the text and its lines, and a small, fixed amount more
# per line; nothing that grows with a line's length beyond its own text.

MEGABYTE = 1 << 20
#: The text, its lines as str objects (about 50 bytes of header each) and the index.
MEMORY_BOUND = 20
#: Loops the regular expression engine keeps state for, item by item, before 3.11.
LOOPS = sys.version_info < (3, 11)

BIG_TEXTS: list[tuple[str, Callable[[], str], bool]] = [
    ("blank-lines", lambda: "\n" * MEGABYTE, False),
    ("unknown-lines", lambda: "".join(f"E{i}:\tx\n" for i in range(MEGABYTE // 12)), False),
    ("continuation-lines", lambda: "User GPRS:\tx\n" + " y\n" * (MEGABYTE // 3), False),
    (
        "groups",
        lambda: with_line("Groups", "".join(f"{1000 + i} " for i in range(MEGABYTE // 6))),
        True,
    ),
    ("name", lambda: "Name:\t" + "a\\n" * (MEGABYTE // 3) + "\n", True),
    ("nspid", lambda: with_line("NSpid", "\t".join(map(str, range(MEGABYTE // 7)))), True),
    ("words", lambda: with_line("x86_Thread_features", "w " * (MEGABYTE // 2)), True),
]


@pytest.mark.parametrize(
    ("make", "loops"), [case[1:] for case in BIG_TEXTS], ids=[case[0] for case in BIG_TEXTS]
)
def test_a_parse_holds_memory_in_proportion_to_the_text(
    make: Callable[[], str], loops: bool
) -> None:
    if loops and LOOPS:
        pytest.skip("before 3.11 the regex engine keeps ~60 bytes per list item while matching")
    text = make()
    tracemalloc.start()
    try:
        status = parse_status(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(status) <= text.count("\n")
    assert peak <= MEMORY_BOUND * len(text), f"{peak / len(text):.1f} bytes per character"


# A long key: no kernel prints one (keys are at most ~26 characters), but any
# text may hold one. Learning its shape would compile a pattern holding the key
# (a second per MiB) and keep it; a shape that long is not learned, so a long
# key costs what a long value of the same length costs.

LONG_KEY = 1 << 16


def parsed_three_times(text: str) -> float:
    """Seconds to parse ``text`` three times from cold caches (the third parse would be fast)."""
    _fastpath.clear()
    start = time.perf_counter()
    for _ in range(3):
        to_json_dict(parse_status(text))
    return time.perf_counter() - start


def test_a_long_key_parsed_three_times_costs_what_a_long_value_does() -> None:
    long_key = BASE + "K" * LONG_KEY + ":\tx\n"
    long_value = BASE + "K:\t" + "x" * LONG_KEY + "\n"
    best_key = best_value = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            best_key = min(best_key, parsed_three_times(long_key))
            best_value = min(best_value, parsed_three_times(long_value))
    finally:
        gc.enable()
    ratio = best_key / best_value
    assert ratio <= SLACK, f"a long key took {ratio:.1f}x the time of a long value"


def test_a_long_key_leaves_nothing_kept() -> None:
    text = BASE + "K" * LONG_KEY + ":\tx\n"
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(3):
            to_json_dict(parse_status(text))
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert not _fastpath.TEMPLATES.items
    assert kept < LONG_KEY, f"{kept} bytes kept after three parses"
