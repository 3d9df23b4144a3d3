"""The JSON form of a status (procstatus.to_json_dict): the schema of ``procstatus --json``.

Each case is one status text and the JSON values it must become; docs/cli.md
documents the same table.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from procstatus import FIELDS, parse_status, to_json_dict
from procstatus._json import FORMS

CASES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "memory-in-bytes",
        "VmHWM:\t    2048 kB\nVmRSS:\t       4 kB\n",
        {"VmHWM": 2097152, "VmRSS": 4096},
    ),
    ("nommu-bytes", "Mem:\t   12345 bytes\n", {"Mem": 12345}),
    ("state", "State:\tS (sleeping)\n", {"State": {"letter": "S", "meaning": "sleeping"}}),
    (
        "ids",
        "Uid:\t1000\t1001\t1002\t1003\n",
        {"Uid": {"real": 1000, "effective": 1001, "saved": 1002, "filesystem": 1003}},
    ),
    (
        "ids-old-negative",
        "Gid:\t-2\t-2\t-2\t-2\n",
        {"Gid": dict.fromkeys(("real", "effective", "saved", "filesystem"), 4294967294)},
    ),
    ("groups", "Groups:\t4 24 27 \n", {"Groups": [4, 24, 27]}),
    ("groups-empty", "Groups:\t \n", {"Groups": []}),
    ("namespace-ids", "NStgid:\t4242\t1\n", {"NStgid": [4242, 1]}),
    ("plain-ints", "Pid:\t7\nThreads:\t3\n", {"Pid": 7, "Threads": 3}),
    ("umask-is-a-number", "Umask:\t0022\n", {"Umask": 18}),
    ("sleep-avg-percent", "SleepAVG:\t98%\n", {"SleepAVG": 98}),
    ("bools", "Kthread:\t0\nCoreDumping:\t1\n", {"Kthread": False, "CoreDumping": True}),
    ("sigq", "SigQ:\t2/63703\n", {"SigQ": {"queued": 2, "limit": 63703}}),
    # Masks can exceed 2**53 (JavaScript, jq 1.6): kept as printed.
    ("signal-mask", "SigCgt:\t8000000000014a07\n", {"SigCgt": "8000000000014a07"}),
    ("capability-mask", "CapBnd:\t000001ffffffffff\n", {"CapBnd": "000001ffffffffff"}),
    ("untag-mask", "untag_mask:\t0xffffffffffffffff\n", {"untag_mask": "0xffffffffffffffff"}),
    ("cpu-set", "Cpus_allowed:\t3,00000001\n", {"Cpus_allowed": [0, 32, 33]}),
    ("cpu-list", "Cpus_allowed_list:\t0-2,5\n", {"Cpus_allowed_list": [0, 1, 2, 5]}),
    ("cpu-list-empty", "Mems_allowed_list:\t\n", {"Mems_allowed_list": []}),
    ("words", "x86_Thread_features:\tshstk wrss \n", {"x86_Thread_features": ["shstk", "wrss"]}),
    (
        "text",
        "Speculation_Store_Bypass:\tthread vulnerable\n",
        {"Speculation_Store_Bypass": "thread vulnerable"},
    ),
    ("name-unescaped", "Name:\ta\\nb\\\\c\n", {"Name": "a\nb\\c"}),
    ("name-blanks-kept", "Name:\t two  words \n", {"Name": " two  words "}),
    ("unknown-line-as-printed", "Foo:\t  12 kB\n", {"Foo": "12 kB"}),
    ("vendor-text", "ExecLim:\t08048000\n", {"ExecLim": "08048000"}),
    (
        "absent-lines-absent-order-kept",
        "VmRSS:\t8 kB\nName:\tx\n",
        {"VmRSS": 8192, "Name": "x"},
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_to_json_dict(text: str, expected: dict[str, Any]) -> None:
    result = to_json_dict(parse_status(text))
    assert result == expected
    assert list(result) == list(expected)  # file order
    assert json.loads(json.dumps(result, allow_nan=False)) == expected


def test_name_bytes_that_are_not_utf8_become_replacement_characters() -> None:
    # JSON text is Unicode: a lone surrogate (surrogateescape) would not be valid.
    result = to_json_dict(parse_status(b"Name:\tab\xff\xfe\n"))
    assert result == {"Name": "ab\ufffd\ufffd"}
    assert json.dumps(result) == '{"Name": "ab\\ufffd\\ufffd"}'


UNICODE_CASES: list[tuple[str, str | bytes, dict[str, Any]]] = [
    ("unknown-key-and-value", b"Foo\xfe:\t\xff\n", {"Foo\ufffd": "\ufffd"}),
    (
        "text",
        b"Speculation_Store_Bypass:\tthread \xfevulnerable\n",
        {"Speculation_Store_Bypass": "thread \ufffdvulnerable"},
    ),
    (
        "state",
        b"State:\t\xff (sl\xffeeping)\n",
        {"State": {"letter": "\ufffd", "meaning": "sl\ufffdeeping"}},
    ),
    (
        "words",
        b"x86_Thread_features:\tsh\xffstk wrss \n",
        {"x86_Thread_features": ["sh\ufffdstk", "wrss"]},
    ),
    # A str may hold any surrogate, not only surrogateescape's U+DC80..U+DCFF.
    ("str-with-lone-surrogate", "Name:\ta\ud800b\n", {"Name": "a\ufffdb"}),
    ("valid-utf8-kept", "Name:\tcaf\u00e9 \U0001f600\n".encode(), {"Name": "caf\u00e9 \U0001f600"}),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in UNICODE_CASES], ids=[c[0] for c in UNICODE_CASES]
)
def test_every_string_is_valid_unicode(text: str | bytes, expected: dict[str, Any]) -> None:
    # Every key and string value, not only Name: json.dumps would write a lone
    # surrogate as a "\udcff" escape, which is not valid JSON text.
    result = to_json_dict(parse_status(text))
    assert result == expected
    # A lone surrogate would fail to encode as UTF-8.
    assert json.loads(json.dumps(result, ensure_ascii=False).encode("utf-8")) == expected


def test_every_kind_of_the_field_table_has_a_json_form() -> None:
    # A new kind must be given a form on purpose, not fall back to text by accident.
    kinds = {spec.kind.name for spec in FIELDS.values()}
    assert kinds <= {kind.name for kind in FORMS}


@pytest.mark.parametrize("given", [5, None, {}, {"Name": "x"}], ids=repr)
def test_only_a_status_has_a_json_form(given: object) -> None:
    with pytest.raises(TypeError, match=r"^to_json_dict\(\) takes a ProcStatus, not "):
        to_json_dict(given)  # type: ignore[arg-type]
