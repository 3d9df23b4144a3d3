"""Properties of the pure core over texts written the kernel's way, and over garbage."""

from __future__ import annotations

import os
from functools import partial
from typing import Callable, TypeVar, Union, cast

from hypothesis import example, given
from hypothesis import strategies as st

import procstatus
from procstatus import (
    FIELDS,
    FieldTypeError,
    FieldValueError,
    ProcStatus,
    StatusParseError,
    check_invariants,
    format_status,
    parse_memory,
    parse_status,
)
from procstatus._fields import BY_ATTRIBUTE, MEMORY_FIELDS
from strategies import (
    CORPUS,
    DAMAGE_BASES,
    FEW,
    SOME,
    Generated,
    Hostile,
    any_values,
    hostile_copy,
    kernel_statuses,
    mutated,
    name_line,
    names,
)

T = TypeVar("T")

MEMORY_NAMES = frozenset(spec.name for spec in MEMORY_FIELDS)


def read_everything(status: ProcStatus) -> None:
    """Touch every value the way a caller could; none of it may raise."""
    for key in status:
        assert status[key] == status.get(key)
        assert isinstance(status.raw(key), str)
    for spec in FIELDS.values():
        if spec.attribute is not None:
            assert getattr(status, spec.attribute) == status.get(spec.name)
    assert status.memory is None or status.memory == parse_memory(format_status(status))
    assert set(status.unknown) <= set(status)
    assert repr(status).startswith("ProcStatus(")
    assert isinstance(check_invariants(status), tuple)
    assert parse_status(format_status(status)) == status


def outcome(
    parse: Callable[[Union[str, bytes]], T], data: Union[str, bytes]
) -> Union[T, StatusParseError]:
    """What a parser returns, or the StatusParseError it raises (any other error escapes)."""
    try:
        return parse(data)
    except StatusParseError as error:
        return error


def assert_parses_or_parse_error(data: Union[str, bytes]) -> None:
    """Any input gives a ProcStatus or a StatusParseError; parse_memory agrees with it."""
    status = outcome(parse_status, data)
    memory = outcome(parse_memory, data)

    if isinstance(status, ProcStatus):
        read_everything(status)
        assert memory == status.memory
    else:
        assert status.line >= 1
        if isinstance(memory, StatusParseError):
            # parse_memory hands a bad memory line to the full parser: the same error.
            assert str(memory) == str(status)
        else:
            # parse_memory checks only the memory lines (that is what makes it fast), so a
            # text broken elsewhere may still give its memory; never one with a bad memory line.
            assert status.field not in MEMORY_NAMES


# The kernel's own texts.


@FEW
@given(kernel_statuses())
def test_generated_text_reads_back_the_kernel_values(made: Generated) -> None:
    status = parse_status(made.text)

    assert {attr: getattr(status, attr) for attr in made.expected} == made.expected
    assert list(status) == [key for key, _ in made.lines]
    assert status.unknown == ()


@FEW
@given(kernel_statuses())
def test_generated_text_keeps_the_task_mem_invariants(made: Generated) -> None:
    status = parse_status(made.text)

    if status.peak_size is not None and status.size is not None:
        assert status.peak_size >= status.size
    if status.peak_rss is not None and status.rss is not None:
        assert status.peak_rss >= status.rss
    assert check_invariants(status) == ()


@FEW
@given(kernel_statuses())
def test_kernel_threads_and_zombies_have_no_memory(made: Generated) -> None:
    status = parse_status(made.text)

    if made.task == "user":
        assert status.memory is not None
        assert parse_memory(made.text) == status.memory
    else:
        assert status.memory is None
        assert parse_memory(made.text) is None
        assert status.rss is None
        assert status.peak_rss is None
    if made.task == "zombie":
        assert status.umask is None


@FEW
@given(kernel_statuses())
def test_format_status_round_trips(made: Generated) -> None:
    status = parse_status(made.text)

    assert parse_status(format_status(status)) == status
    assert parse_status(format_status(status).encode("utf-8", "surrogateescape")) == status


@FEW
@given(kernel_statuses(name=st.just(b"plain")), names)
def test_any_name_leaves_every_other_field_unchanged(made: Generated, name: bytes) -> None:
    plain = parse_status(made.text)

    hostile = parse_status(made.with_name_line(name_line(name)))

    assert hostile.name is not None
    assert os.fsencode(hostile.name) == name
    assert hostile.name == name.decode("utf-8", "surrogateescape")
    assert list(hostile) == list(plain)
    assert {k: hostile[k] for k in hostile if k != "Name"} == {
        k: plain[k] for k in plain if k != "Name"
    }
    assert parse_memory(made.with_name_line(name_line(name))) == plain.memory


@FEW
@given(names)
@example(b"x\tUid:\t7\t7\t7\t7")  # psutil's bug: a name that looks like a line
@example(b"x\nVmRSS:\t1 kB")
@example(b"\\n")
@example(b"\\")
@example(b"\t")
@example(b"")
def test_any_name_survives_a_round_trip(name: bytes) -> None:
    status = parse_status(b"Name:\t" + name.replace(b"\\", b"\\\\").replace(b"\n", b"\\n"))

    assert status.name is not None
    assert os.fsencode(status.name) == name
    assert parse_status(format_status(status)) == status


# Anything else at all.


@SOME
@given(st.text())
def test_any_text_parses_or_raises_status_parse_error(data: str) -> None:
    assert_parses_or_parse_error(data)


@SOME
@given(st.binary())
def test_any_bytes_parse_or_raise_status_parse_error(data: bytes) -> None:
    assert_parses_or_parse_error(data)


@SOME
@given(mutated(DAMAGE_BASES))
def test_damaged_real_texts_parse_or_raise_status_parse_error(data: bytes) -> None:
    assert_parses_or_parse_error(data)


@FEW
@given(mutated(kernel_statuses().map(lambda made: made.text)))
def test_damaged_generated_texts_parse_or_raise_status_parse_error(data: bytes) -> None:
    assert_parses_or_parse_error(data)


@FEW
@given(kernel_statuses())
def test_parse_memory_is_parse_status_memory_on_kernel_texts(made: Generated) -> None:
    assert parse_memory(made.text) == parse_status(made.text).memory
    assert parse_memory(made.text.decode("utf-8", "surrogateescape")) == parse_memory(made.text)


# The parser may remember the layout of texts it has seen to go faster; what it
# remembers must never change a result. A blank first line (which the kernel's
# 4.4.y backport printed) gives the same status, with every line number one later.


def assert_same_as_with_a_blank_first_line(data: bytes) -> None:
    plain = outcome(parse_status, data)
    shifted = outcome(parse_status, b"\n" + data)

    if isinstance(plain, ProcStatus):
        assert shifted == plain
    else:
        assert isinstance(shifted, StatusParseError)
        assert (shifted.line, shifted.field, shifted.reason, shifted.text) == (
            plain.line + 1,
            plain.field,
            plain.reason,
            plain.text,
        )


@FEW
@given(kernel_statuses(), st.data())
def test_a_seen_layout_never_changes_a_result(made: Generated, data: st.DataObject) -> None:
    for _ in range(2):  # the layout is now known (it is learned when seen twice)
        parse_status(made.text)
        parse_memory(made.text)

    damaged = data.draw(mutated(st.just(made.text)))

    assert_same_as_with_a_blank_first_line(damaged)
    assert_parses_or_parse_error(damaged)


@SOME
@given(mutated(DAMAGE_BASES))
def test_damaged_real_texts_parse_like_a_cold_parse(data: bytes) -> None:
    for text in CORPUS[46:54] * 2:
        parse_status(text)
        parse_memory(text)

    assert_same_as_with_a_blank_first_line(data)


# Typed values in: ProcStatus.from_fields and replace take a value exactly or
# refuse it with FieldTypeError or FieldValueError naming the field, and never
# change another line.

ATTRIBUTES = sorted(BY_ATTRIBUTE)


def made_or_refused(
    make: Callable[[], ProcStatus],
) -> Union[ProcStatus, FieldTypeError, FieldValueError]:
    """The status made, or the field error raised (any other error escapes)."""
    try:
        return make()
    except (FieldTypeError, FieldValueError) as error:
        return error


def assert_only_that_line_changed(before: ProcStatus, after: ProcStatus, key: str) -> None:
    assert [k for k in after if k != key] == [k for k in before if k != key]
    assert {k: after[k] for k in after if k != key} == {k: before[k] for k in before if k != key}
    read_everything(after)


@SOME
@given(kernel_statuses(), st.sampled_from(ATTRIBUTES), any_values)
def test_replace_takes_any_value_exactly_or_refuses_it(
    made: Generated, attribute: str, value: object
) -> None:
    status = parse_status(made.text)
    key = BY_ATTRIBUTE[attribute].name
    changed = made_or_refused(lambda: status.replace(**{attribute: value}))
    if isinstance(changed, (FieldTypeError, FieldValueError)):
        assert isinstance(changed, procstatus.Error)
        assert changed.field == key
        return
    if value is None:
        assert key not in changed
    else:
        assert changed[key] == value
        assert getattr(changed, attribute) == value
    assert_only_that_line_changed(status, changed, key)


@FEW
@given(kernel_statuses(), kernel_statuses(), st.sampled_from(ATTRIBUTES))
def test_replace_takes_every_value_a_kernel_prints(
    made: Generated, other: Generated, attribute: str
) -> None:
    status, donor = parse_status(made.text), parse_status(other.text)
    value = getattr(donor, attribute)

    changed = status.replace(**{attribute: value})

    assert getattr(changed, attribute) == value
    assert_only_that_line_changed(status, changed, BY_ATTRIBUTE[attribute].name)


def assert_same_with_hostile_values(
    plain: Callable[[], ProcStatus], hostile: Callable[[], ProcStatus]
) -> None:
    """``hostile`` (given values of the hostile subclasses, armed) makes what ``plain``
    makes, or is refused the same way: none of the subclasses' methods ran."""
    expected = made_or_refused(plain)
    Hostile.armed = True
    try:
        got = made_or_refused(hostile)
    finally:
        Hostile.armed = False
    assert type(got) is type(expected)
    if isinstance(expected, ProcStatus):
        assert got == expected


@SOME
@given(kernel_statuses(), kernel_statuses(), st.sampled_from(ATTRIBUTES), any_values)
def test_replace_runs_none_of_the_callers_code(
    made: Generated, other: Generated, attribute: str, odd: object
) -> None:
    # A value of the caller's own subclasses is taken as its plain value, or refused
    # the same way; the subclasses' methods (__eq__, __repr__, __iter__...) all raise.
    # (The names stay plain: the interpreter itself hashes keyword names.)
    status = parse_status(made.text)
    for value in (getattr(parse_status(other.text), attribute), odd):
        assert_same_with_hostile_values(
            partial(status.replace, **{attribute: value}),
            partial(status.replace, **{attribute: hostile_copy(value)}),
        )


@FEW
@given(st.dictionaries(st.sampled_from(sorted(FIELDS)) | st.text(max_size=6), any_values))
def test_from_fields_runs_none_of_the_callers_code(fields: dict[str, object]) -> None:
    copy = {cast(str, hostile_copy(key)): hostile_copy(value) for key, value in fields.items()}
    assert_same_with_hostile_values(
        partial(ProcStatus.from_fields, fields), partial(ProcStatus.from_fields, copy)
    )


@SOME
@given(st.dictionaries(st.sampled_from(sorted(FIELDS)) | st.text(max_size=6), any_values))
def test_from_fields_takes_any_mapping_exactly_or_refuses_it(fields: dict[str, object]) -> None:
    status = made_or_refused(lambda: ProcStatus.from_fields(fields))
    if isinstance(status, (FieldTypeError, FieldValueError)):
        assert isinstance(status, procstatus.Error)
        return
    assert list(status) == [key for key, value in fields.items() if value is not None]
    assert {key: status[key] for key in status} == {
        key: value for key, value in fields.items() if value is not None
    }
    read_everything(status)


@FEW
@given(kernel_statuses())
def test_from_fields_of_a_parsed_status_is_that_status(made: Generated) -> None:
    status = parse_status(made.text)

    assert ProcStatus.from_fields(status) == status
    assert ProcStatus.from_fields(dict(status)) == status
