"""The 60 real status texts of ../shared/corpus/status (kernels 2.4 to 6.18; x86, ARM, arm64, MIPS).

The files stay outside the repository: this module runs when the folder is
beside the repo (as in CI) and is skipped otherwise. Every line of every file
is checked against its own text with small independent code here, never with
the library's converters.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from helpers_files import CORPUS_DIR, require
from procstatus import (
    FIELDS,
    Ids,
    SigQ,
    StatusParseError,
    TaskState,
    Violation,
    check_invariants,
    format_status,
    parse_memory,
    parse_status,
)

require(CORPUS_DIR, module_level=True)

FILES = sorted(CORPUS_DIR.glob("*.txt"))
assert len(FILES) == 60, f"expected the 60 corpus files, found {len(FILES)} in {CORPUS_DIR}"

#: Copies damaged by whoever pasted them (INDEX.md): (line, field) of the error.
DAMAGED = {
    "018": (36, "Mems_allowed"),  # hard-wrapped: line 36 ends in a cut word (37 has no ':')
    "037": (33, "HugetlbPages"),  # man page annotation "# 4.4" after the value
    "041": (34, "Mems_allowed"),  # cut after "00000000,"
}
GOOD = [path for path in FILES if path.name[:3] not in DAMAGED]


def corpus(number: str) -> Path:
    (path,) = CORPUS_DIR.glob(f"{number}-*.txt")
    return path


def ids(paths: list[Path]) -> list[str]:
    return [path.name[:3] for path in paths]


# Independent readers of one value, by the table's kind name.


def _unescape(raw: bytes) -> bytes:
    out = bytearray()
    escaped = False
    for byte in raw:
        if escaped:
            out += b"\n" if byte == ord("n") else bytes([byte])
            escaped = False
        elif byte == ord("\\"):
            escaped = True
        else:
            out.append(byte)
    return bytes(out)


def _bits_of(hex_text: str) -> frozenset[int]:
    binary = bin(int(hex_text.replace(",", ""), 16))[2:]
    return frozenset(i for i, digit in enumerate(reversed(binary)) if digit == "1")


def _ranges(text: str) -> frozenset[int]:
    numbers: set[int] = set()
    for part in text.split(","):
        if "-" in part:
            low, high = part.split("-")
            numbers.update(range(int(low), int(high) + 1))
        elif part:
            numbers.add(int(part))
    return frozenset(numbers)


def _unsigned(text: str) -> tuple[int, ...]:
    return tuple(int(part) + 2**32 if part.startswith("-") else int(part) for part in text.split())


READERS: dict[str, Callable[[str], Any]] = {
    "kb": lambda v: int(re.fullmatch(r"(\d+) kB", v)[1]) * 1024,  # type: ignore[index]
    "int": int,
    "bool": lambda v: {"0": False, "1": True}[v],
    "octal": lambda v: int(v, 8),
    "percent": lambda v: int(v.rstrip("%")),
    "state": lambda v: TaskState(letter=v[0], meaning=v[v.index("(") + 1 : v.rindex(")")]),
    "ids": lambda v: Ids(*_unsigned(v)),
    "groups": _unsigned,
    "tab_list": lambda v: tuple(int(part) for part in v.split()),
    "sigq": lambda v: SigQ(*(int(part) for part in v.split("/"))),
    "hex_mask": lambda v: int(v, 16),
    "hex_number": lambda v: int(v[2:], 16),
    "hex_words": _bits_of,
    "range_list": _ranges,
    "words": lambda v: tuple(v.split()),
    "text": lambda v: v,
}


def kernel_lines(data: bytes) -> list[tuple[str, bytes]]:
    """(key, raw value bytes) for each non-blank line, in file order."""
    lines = []
    for line in data.split(b"\n"):
        if not line.strip(b" \t"):
            continue
        key, _, value = line.partition(b":")
        lines.append((key.decode(), value))
    return lines


# Every file.


def test_the_corpus_is_complete() -> None:
    assert [path.name[:3] for path in FILES] == [f"{n:03d}" for n in range(1, 61)]


@pytest.mark.parametrize("path", GOOD, ids=ids(GOOD))
def test_every_value_matches_the_kernel_text(path: Path) -> None:
    data = path.read_bytes()

    status = parse_status(data)

    lines = kernel_lines(data)
    assert list(status) == [key for key, _ in lines]
    assert len(status) == len(lines)
    for key, raw in lines:
        spec = FIELDS.get(key)
        if key == "Name":
            name = raw[1:] if raw.startswith(b"\t") else raw.lstrip(b" ")
            assert status.name is not None
            assert os.fsencode(status.name) == _unescape(name), key
        elif spec is None:
            assert status.get(key) == raw.decode().strip(" \t"), key
        else:
            value = raw.decode().strip(" \t")
            assert status[key] == READERS[spec.kind.name](value), key
            if spec.attribute is not None:
                assert getattr(status, spec.attribute) == status[key], key


@pytest.mark.parametrize("path", GOOD, ids=ids(GOOD))
def test_format_status_round_trips(path: Path) -> None:
    status = parse_status(path.read_bytes())

    assert parse_status(format_status(status)) == status


@pytest.mark.parametrize("path", GOOD, ids=ids(GOOD))
def test_parse_memory_is_parse_status_memory(path: Path) -> None:
    data = path.read_bytes()

    assert parse_memory(data) == parse_status(data).memory


@pytest.mark.parametrize("path", GOOD, ids=ids(GOOD))
def test_both_cpu_and_node_sets_agree(path: Path) -> None:
    status = parse_status(path.read_bytes())

    if status.cpus_allowed is not None and status.cpus_allowed_list is not None:
        assert status.cpus_allowed == status.cpus_allowed_list
    if status.mems_allowed is not None and status.mems_allowed_list is not None:
        assert status.mems_allowed == status.mems_allowed_list


@pytest.mark.parametrize("path", GOOD, ids=ids(GOOD))
def test_real_texts_keep_the_kernel_invariants(path: Path) -> None:
    status = parse_status(path.read_bytes())

    assert check_invariants(status) == ()


DAMAGED_PATHS = [corpus(number) for number in sorted(DAMAGED)]


@pytest.mark.parametrize("path", DAMAGED_PATHS, ids=ids(DAMAGED_PATHS))
def test_damaged_copies_raise_status_parse_error(path: Path) -> None:
    line, field = DAMAGED[path.name[:3]]

    with pytest.raises(StatusParseError) as caught:
        parse_status(path.read_bytes())

    assert (caught.value.line, caught.value.field) == (line, field)


# Expected values written out, file by file.

KB = 1024

EXPECTED: dict[str, dict[str, Any]] = {
    "001": {  # prometheus fixture: the text starts with an empty line
        "name": "prometheus",
        "umask": 0o022,
        "state": TaskState("S", "sleeping"),
        "uid": Ids(1000, 1000, 1000, 0),
        "groups": (),
        "peak_size": 58472 * KB,
        "size": 58440 * KB,
        "peak_rss": 8028 * KB,
        "rss": 6716 * KB,
        "rss_anon": 2092 * KB,
        "rss_file": 4624 * KB,
        "rss_shmem": 0,
        "pmd_tables": 12 * KB,
        "swap": 660 * KB,
        "sigq": SigQ(8, 63965),
        "sig_blocked": 0x7BE3C0FE28014A03,
        "cpus_allowed": frozenset(range(8)),
        "mems_allowed": frozenset({0}),
        "voluntary_ctxt_switches": 4742839,
    },
    "013": {  # tabs expanded to spaces at 10-column stops, no final newline
        "name": "openbox",
        "tgid": 77,
        "uid": Ids(0, 0, 0, 0),
        "peak_size": 229288 * KB,
        "hugetlb": 0,
        "cap_effective": 0xA80425FB,
        "seccomp": 2,
        "speculation_store_bypass": "thread force mitigated",
        "cpus_allowed": frozenset({0, 1}),
        "nonvoluntary_ctxt_switches": 324,
    },
    "014": {  # tabs expanded to 8-column stops, no final newline
        "name": "bash",
        "pid": 1,
        "ppid": 0,
        "rss_anon": 420 * KB,
        "rss_file": 2968 * KB,
        "sig_blocked": 0x10000,
        "speculation_store_bypass": "vulnerable",
        "mems_allowed_list": frozenset({0}),
        "nonvoluntary_ctxt_switches": 44,
    },
    "017": {  # RHEL 5 exec-shield: lines kept as printed, only by key
        "name": "httpd",
        "state": TaskState("R", "running"),
        "sleep_avg": 81,
        "groups": (101,),
        "page_tables": 84 * KB,
        "cpus_allowed": frozenset({0}),
        "cpus_allowed_list": None,
        "swap": None,
    },
    "021": {  # 2.6.0-test8: SleepAVG over 100
        "name": "mozilla-bin",
        "state": TaskState("D", "disk sleep"),
        "sleep_avg": 101,
        "threads": 5,
        "groups": (1000, 29, 44, 101),
        "peak_size": None,
        "peak_rss": None,
        "sigq": None,
        "sig_ignored": 0x8000000000001000,
    },
    "029": {  # nested pid namespaces, three levels
        "name": "nacl_helper",
        "ns_tgid": (1823, 2, 1),
        "ns_pid": (1823, 2, 1),
        "ns_pgid": (1806, 0, 0),
        "ns_sid": (4526, 0, 0),
        "no_new_privs": True,
        "core_dumping": False,
        "cap_permitted": 1 << 21,
        "mems_allowed": frozenset({0, 1}),
    },
    "036": {  # kernel thread on 6.6+: Kthread 1, no memory, zero-padded CPU mask
        "name": "idle_inject/5",
        "kthread": True,
        "umask": 0,
        "groups": (),
        "cpus_allowed": frozenset({5}),  # 0x00020
        "cpus_allowed_list": frozenset({5}),
        "sig_ignored": 2**64 - 1,
        "x86_thread_features": (),
        "x86_thread_features_locked": (),
        "memory": None,
        "rss": None,
    },
    "039": {  # 2.6.0-test: VmRSS above VmSize (sound-driver mappings), not an invariant
        "name": "tcvp",
        "size": 25064 * KB,
        "rss": 75608 * KB,
        "peak_rss": None,
        "uid": Ids(51770, 51770, 51770, 51770),
        "threads": None,
    },
    "042": {  # MIPS: 128-bit signal masks, 64-bit capabilities
        "name": "server",
        "sig_pending": 0,
        "sig_caught": 0xFFFFFFFFFFFFFFFFFFFFFFFE783FFEFF,
        "cap_bounding": 0x3FFFFFFFFF,
        "thp_enabled": True,
        "ns_tgid": None,
        "seccomp": None,
        "mems_allowed": None,
        "hugetlb": None,
        "nonvoluntary_ctxt_switches": 146,
    },
    "043": {  # Kubernetes pause in a user namespace: ids above 2**31
        "name": "pause",
        "uid": Ids(4061200383, 4061200383, 4061200383, 4061200383),
        "gid": Ids(4061200383, 4061200383, 4061200383, 4061200383),
        "groups": (4061200383,),
        "ns_tgid": (23819, 1),
        "kthread": False,
        "rss": 0,
        "untag_mask": 2**64 - 1,
        "seccomp_filters": 1,
        "cpus_allowed": frozenset(range(96)),
    },
    "044": {  # 121 supplementary groups (INDEX.md: "~130")
        "name": "x",
        "state": TaskState("R", "running"),
        "sigq": SigQ(119, 385609),
        "x86_thread_features": (),
    },
    "048": {  # kthreadd on 6.18: a kernel thread has no memory lines
        "name": "kthreadd",
        "kthread": True,
        "memory": None,
        "peak_rss": None,
        "core_dumping": None,
        "umask": 0o022,
    },
    "052": {  # zombie: no Umask, no memory, FDSize 0
        "name": "python3",
        "state": TaskState("Z", "zombie"),
        "umask": None,
        "memory": None,
        "fd_size": 0,
        "kthread": False,
    },
    "054": {  # prctl(PR_SET_NAME) with hostile bytes
        "name": b"a b\tc\nd\\e:\xff\xfe".decode("utf-8", "surrogateescape"),
        "umask": 0o022,
        "pid": 22930,
        "peak_rss": 10692 * KB,
    },
    "057": {  # unusual credentials, affinity and signals
        "uid": Ids(2001, 2002, 2003, 2002),
        "gid": Ids(1001, 1002, 1003, 1002),
        "umask": 0o077,
        "cpus_allowed": frozenset({1}),
    },
}


@pytest.mark.parametrize(("number", "expected"), EXPECTED.items(), ids=list(EXPECTED))
def test_expected_values(number: str, expected: dict[str, Any]) -> None:
    status = parse_status(corpus(number).read_bytes())

    assert {attribute: getattr(status, attribute) for attribute in expected} == expected


def test_044_keeps_every_one_of_its_121_groups() -> None:
    status = parse_status(corpus("044").read_bytes())

    assert status.groups is not None
    assert len(status.groups) == 121  # INDEX.md says "~130"; the line holds 121
    assert status.groups[:3] == (4, 20, 24)
    assert status.groups[-1] == 102941


def test_054_name_is_the_bytes_the_process_set() -> None:
    data = corpus("054").read_bytes()

    status = parse_status(data)

    assert status.name is not None
    assert os.fsencode(status.name) == b"a b\tc\nd\\e:\xff\xfe"
    assert status.raw("Name") == b"a b\tc\\nd\\\\e:\xff\xfe".decode("utf-8", "surrogateescape")
    assert parse_status(format_status(status)).name == status.name


def test_017_exec_shield_lines_are_kept_as_text() -> None:
    status = parse_status(corpus("017").read_bytes())

    assert [status.get(key) for key in ("StaBrk", "Brk", "StaStk", "ExecLim")] == [
        "099f3000 kB",
        "0a53d000 kB",
        "bfbbd270 kB",
        "08179000",
    ]
    assert status.unknown == ()  # the table knows them, with no attribute


def test_039_rss_above_size_is_no_violation() -> None:
    status = parse_status(corpus("039").read_bytes())

    assert status.rss is not None
    assert status.size is not None
    assert status.rss > status.size
    assert check_invariants(status) == ()


def test_038_linux_2_4_has_no_threads_line() -> None:
    status = parse_status(corpus("038").read_bytes())

    assert status.name == "s"
    assert status.threads is None
    assert status.locked == status.size
    assert status.groups == ()


MEMORYLESS = {
    "004": "kernel thread",
    "005": "kernel thread",
    "011": "kernel thread",
    "026": "kernel thread",
    "033": "kernel thread",
    "036": "kernel thread",
    "046": "zombie",
    "048": "kernel thread",
    "049": "kernel thread",
    "050": "kernel thread",
    "051": "kernel thread",
    "052": "zombie",
}


@pytest.mark.parametrize("path", GOOD, ids=ids(GOOD))
def test_only_kernel_threads_and_zombies_lack_memory(path: Path) -> None:
    status = parse_status(path.read_bytes())

    kind: Optional[str] = MEMORYLESS.get(path.name[:3])
    assert (status.memory is None) == (kind is not None)
    if kind == "zombie":
        assert status.state == TaskState("Z", "zombie")
        assert status.umask is None
    if kind == "kernel thread" and status.kthread is not None:
        assert status.kthread is True


def test_damaged_018_points_at_the_first_piece_of_the_wrapped_line() -> None:
    # The first bad line of the text: its last word was cut after five digits.
    with pytest.raises(
        StatusParseError,
        match=re.escape(
            "line 36 (Mems_allowed): expected comma-separated 32-bit words of lower-case"
            " hexadecimal digits: 'Mems_allowed:\\t00000000,"
        ),
    ):
        parse_status(corpus("018").read_bytes())


def test_damaged_037_names_the_annotation() -> None:
    with pytest.raises(StatusParseError) as caught:
        parse_status(corpus("037").read_bytes())

    assert str(caught.value) == (
        "line 33 (HugetlbPages): expected a decimal number of at most 20 digits followed by"
        " ' kB': 'HugetlbPages:          0 kB\\t\\t# 4.4'"
    )
    with pytest.raises(StatusParseError) as from_memory:  # a memory line: parse_memory sees it
        parse_memory(corpus("037").read_bytes())
    assert str(from_memory.value) == str(caught.value)


def test_damaged_041_names_the_truncated_line() -> None:
    with pytest.raises(StatusParseError) as caught:
        parse_status(corpus("041").read_bytes())

    assert str(caught.value) == (
        "line 34 (Mems_allowed): expected comma-separated 32-bit words of lower-case"
        " hexadecimal digits: 'Mems_allowed:\\t00000000,'"
    )


def test_check_invariants_of_a_real_text_reports_a_broken_pair() -> None:
    status = parse_status(corpus("047").read_bytes())
    assert status.rss is not None

    broken = status.replace(peak_rss=status.rss - KB)

    assert check_invariants(broken) == (
        Violation(
            rule="VmHWM >= VmRSS",
            message=f"VmHWM ({status.rss // KB - 1} kB) is below VmRSS ({status.rss // KB} kB)",
        ),
    )
