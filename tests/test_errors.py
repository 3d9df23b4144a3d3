"""The exceptions of src/procstatus/_errors.py: one base class, the builtin bases kept,
and messages that are safe to print.
"""

from __future__ import annotations

import errno
import pickle
from collections.abc import Callable

import pytest

import procstatus
from procstatus import (
    Error,
    FieldTypeError,
    FieldValueError,
    PeakResetUnavailableError,
    PeakTraceError,
    ProcessNotFoundError,
    ProcfsFileError,
    ProcfsNotFoundError,
    ProcfsPermissionError,
    RollupParseError,
    RssLimitExceededError,
    StatusParseError,
)

#: Every exception class procstatus exports, with the builtin it has always been.
BUILTIN_BASES: dict[type[Error], type[Exception]] = {
    StatusParseError: ValueError,
    FieldValueError: ValueError,
    FieldTypeError: TypeError,
    ProcessNotFoundError: ProcessLookupError,
    ProcfsPermissionError: PermissionError,
    ProcfsNotFoundError: FileNotFoundError,
    ProcfsFileError: OSError,
    PeakResetUnavailableError: OSError,
    PeakTraceError: OSError,
    RollupParseError: ValueError,
    RssLimitExceededError: Exception,  # a decision not to read, not an OS error
}


def test_every_exported_exception_is_listed_here() -> None:
    exported = {
        value
        for name in procstatus.__all__
        if isinstance(value := getattr(procstatus, name), type) and issubclass(value, BaseException)
    }
    assert exported == {Error, *BUILTIN_BASES}


@pytest.mark.parametrize("cls", list(BUILTIN_BASES), ids=lambda cls: cls.__name__)
def test_every_exception_is_an_error_and_keeps_its_builtin_base(cls: type[Error]) -> None:
    assert issubclass(cls, Error)
    assert issubclass(cls, BUILTIN_BASES[cls])


def test_error_is_an_exception_of_its_own() -> None:
    assert Error.__bases__ == (Exception,)
    assert not issubclass(Error, OSError)
    assert not issubclass(Error, ValueError)


def test_except_process_lookup_error_still_catches_a_gone_process() -> None:
    def read_gone() -> None:
        procstatus.read_pid(2**22 + 1)  # beyond PID_MAX_LIMIT: never a process

    with pytest.raises(ProcessLookupError) as caught:  # as callers wrote it before Error
        read_gone()
    assert isinstance(caught.value, Error)
    assert isinstance(caught.value, ProcessNotFoundError)
    assert caught.value.pid == 2**22 + 1


def test_except_error_catches_every_kind() -> None:
    caught: list[str] = []
    attempts: list[Callable[[], object]] = [
        lambda: procstatus.parse_status("garbage\n"),
        lambda: procstatus.read_pid(2**22 + 1),
        lambda: procstatus.read_pid(1, root="/nonexistent-proc-root"),
    ]
    for failing in attempts:
        try:
            failing()
        except Error as error:
            caught.append(type(error).__name__)
    assert caught == ["StatusParseError", "ProcessNotFoundError", "ProcfsNotFoundError"]


@pytest.mark.parametrize("cls", [StatusParseError, RollupParseError], ids=lambda cls: cls.__name__)
@pytest.mark.parametrize(
    ("field", "where"),
    [
        ("VmRSS", "line 3 (VmRSS)"),
        ("Mystery field", "line 3 (Mystery field)"),
        ("\x1b[2J", "line 3 ('\\x1b[2J')"),
        ("K\u202e", "line 3 ('K\\u202e')"),
        (None, "line 3"),
    ],
    ids=["known", "unknown-printable", "escape-sequence", "bidi-override", "no-key"],
)
def test_a_parse_error_message_has_no_control_character(
    cls: type[StatusParseError | RollupParseError], field: str | None, where: str
) -> None:
    error = cls("the field appears twice", line=3, field=field, text="x\x1b[2J")
    assert str(error) == f"{where}: the field appears twice: 'x\\x1b[2J'"
    assert str(error).isprintable()
    assert error.field == field  # the attribute keeps the key as it was


@pytest.mark.parametrize("cls", [FieldValueError, FieldTypeError], ids=lambda cls: cls.__name__)
def test_a_field_error_message_has_no_control_character(
    cls: type[FieldValueError | FieldTypeError],
) -> None:
    error = cls("\x1b[2J", "a field name is not empty and has no ':' or newline")
    assert str(error) == "'\\x1b[2J': a field name is not empty and has no ':' or newline"
    assert error.field == "\x1b[2J"
    assert str(cls("VmRSS", "why")) == "VmRSS: why"


def test_a_hostile_key_given_to_from_fields() -> None:
    with pytest.raises(FieldTypeError) as caught:
        procstatus.ProcStatus.from_fields({"\x1b[2J": 5})
    assert str(caught.value) == "'\\x1b[2J': expected a str, not int"


def test_a_duplicated_hostile_key_from_the_parser() -> None:
    with pytest.raises(StatusParseError) as caught:
        procstatus.parse_status(b"Name:\tx\n\x1b[2J:\t1\n\x1b[2J:\t2\n")
    assert str(caught.value) == "line 3 ('\\x1b[2J'): the field appears twice: '\\x1b[2J:\\t2'"


@pytest.mark.parametrize("cls", [StatusParseError, RollupParseError], ids=lambda cls: cls.__name__)
def test_parse_errors_survive_pickling_as_themselves(
    cls: type[StatusParseError | RollupParseError],
) -> None:
    error = cls("bad", line=2, field="\x1b", text="t")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert (str(copy), copy.reason, copy.line, copy.field, copy.text) == (
        str(error),
        "bad",
        2,
        "\x1b",
        "t",
    )


def test_the_two_parse_errors_are_not_each_other() -> None:
    # They share their code, not their identity: except StatusParseError must
    # not catch a damaged smaps_rollup.
    assert not issubclass(RollupParseError, StatusParseError)
    assert not issubclass(StatusParseError, RollupParseError)


def test_errors_survive_pickling() -> None:
    error = StatusParseError("bad", line=2, field="\x1b", text="t")
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.field) == (str(error), "\x1b")
    gone = pickle.loads(pickle.dumps(ProcessNotFoundError(5, 6)))
    assert (gone.pid, gone.tid, str(gone)) == (5, 6, "no such thread: thread 6 of process 5")
    file_error = pickle.loads(pickle.dumps(ProcfsFileError(errno.EFBIG, "too long", "/p")))
    assert (type(file_error), file_error.errno, file_error.filename) == (
        ProcfsFileError,
        errno.EFBIG,
        "/p",
    )
