"""Properties of parse_rollup and sum_smaps over generated and damaged texts (Hypothesis).

Any text at all gives a Rollup or a RollupParseError: never another exception.
"""

from __future__ import annotations

from typing import Callable, Union

from hypothesis import given
from hypothesis import strategies as st

from procstatus import ROLLUP_FIELDS, Rollup, RollupParseError, parse_rollup
from procstatus._rollup import _parse_exact, rollup_lines, sum_smaps
from strategies import FEW, ROLLUP_DAMAGE_BASES, SOME, GeneratedRollup, kernel_rollups, mutated


@FEW
@given(kernel_rollups())
def test_a_kernel_text_gives_the_values_it_was_written_from(made: GeneratedRollup) -> None:
    rollup = parse_rollup(made.text)

    assert {key: getattr(rollup, key) for key in made.expected} == made.expected
    assert rollup.header == made.header
    assert rollup.unknown == made.unknown


@FEW
@given(kernel_rollups())
def test_writing_a_rollup_back_gives_the_same_rollup(made: GeneratedRollup) -> None:
    rollup = parse_rollup(made.text)

    assert parse_rollup("\n".join(rollup_lines(rollup))) == rollup


@FEW
@given(kernel_rollups())
def test_the_sums_of_one_mapping_are_that_mapping(made: GeneratedRollup) -> None:
    # One smaps block: the mapping header, then the lines that smaps prints too.
    rollup = parse_rollup(made.text)
    lines = ["00400000-0048a000 r-xp 00000000 fd:03 960637   /bin/bash"]
    lines += [
        line
        for line in rollup_lines(rollup)
        if line.partition(":")[0] in ROLLUP_FIELDS
        and ROLLUP_FIELDS[line.partition(":")[0]].in_smaps
    ]

    summed = sum_smaps("\n".join(lines))

    assert summed is not None
    for key in ("rss", "pss", "pss_dirty", "private_clean", "private_dirty", "swap"):
        assert getattr(summed, key) == getattr(rollup, key), key


def _parses_or_documented_error(data: Union[str, bytes]) -> None:
    try:
        result = parse_rollup(data)
    except RollupParseError as error:
        caught = error
    else:
        assert isinstance(result, Rollup)
        return
    assert caught.line >= 1


@SOME
@given(mutated(ROLLUP_DAMAGE_BASES))
def test_damaged_texts_parse_or_raise_the_documented_error(data: bytes) -> None:
    _parses_or_documented_error(data)


@SOME
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_any_text_parses_or_raises_the_documented_error(data: Union[str, bytes]) -> None:
    _parses_or_documented_error(data)


@SOME
@given(st.one_of(mutated(ROLLUP_DAMAGE_BASES), st.binary(max_size=300)))
def test_sum_smaps_sums_or_raises_the_documented_error(data: bytes) -> None:
    try:
        result = sum_smaps(data)
    except RollupParseError:
        return
    assert result is None or isinstance(result, Rollup)


def _outcome(parse: Callable[[str], Rollup], text: str) -> object:
    try:
        return parse(text)
    except RollupParseError as error:
        return ("error", error.line, error.field, error.reason)


@SOME
@given(st.one_of(kernel_rollups().map(lambda made: made.text), mutated(ROLLUP_DAMAGE_BASES)))
def test_the_fast_path_agrees_with_the_exact_path(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    for _ in range(3):  # the second sighting of a shape makes its template
        fast = _outcome(parse_rollup, text)
    exact = _outcome(_parse_exact, text)

    assert fast == exact
    if isinstance(fast, Rollup) and isinstance(exact, Rollup):
        assert repr(fast) == repr(exact)
        assert hash(fast) == hash(exact)
