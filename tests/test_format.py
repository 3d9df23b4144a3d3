"""format_status writes a status back the way fs/proc/array.c prints it."""

from __future__ import annotations

import pytest

from procstatus import format_status, parse_status

KB = 1024


@pytest.mark.parametrize(
    ("line", "printed"),
    [
        ("Name:\tbash", "Name:\tbash"),
        ("Name:\ta\\nb\\\\c", "Name:\ta\\nb\\\\c"),
        ("Name:     spaced copy", "Name:\tspaced copy"),
        ("Umask:\t0002", "Umask:\t0002"),
        ("State:\tt (tracing stop)", "State:\tt (tracing stop)"),
        ("SleepAVG:\t101%", "SleepAVG:\t101%"),
        ("Pid:\t4242", "Pid:\t4242"),
        ("Uid:\t1000 1000  1000   0", "Uid:\t1000\t1000\t1000\t0"),
        ("Uid:\t-1\t0\t0\t0", "Uid:\t4294967295\t0\t0\t0"),
        ("Groups:", "Groups:\t "),
        ("Groups:\t4 24\t27", "Groups:\t4 24 27 "),
        ("NStgid:\t1823\t2\t1", "NStgid:\t1823\t2\t1"),
        ("Kthread:\t1", "Kthread:\t1"),
        ("VmHWM:\t2048 kB", "VmHWM:\t    2048 kB"),
        ("VmPeak:\t16108180 kB", "VmPeak:\t16108180 kB"),
        ("VmLib:\t123456789 kB", "VmLib:\t123456789 kB"),
        ("Mem:\t  123456 bytes", "Mem:\t  123456 bytes"),
        ("untag_mask:\t0xffffffffffffff", "untag_mask:\t0xffffffffffffff"),
        ("SigQ:\t8/63965", "SigQ:\t8/63965"),
        ("SigBlk:\t7be3c0fe28014a03", "SigBlk:\t7be3c0fe28014a03"),
        ("SigIgn:\t1000", "SigIgn:\t0000000000001000"),
        ("CapBnd:\t000001ffffffffff", "CapBnd:\t000001ffffffffff"),
        ("Cpus_allowed:\t00020", "Cpus_allowed:\t20"),
        ("Cpus_allowed:\t000c,000003fc", "Cpus_allowed:\tc,000003fc"),
        ("Mems_allowed:\t00000000,00000000", "Mems_allowed:\t0"),
        ("Cpus_allowed_list:\t2-9,34-35", "Cpus_allowed_list:\t2-9,34-35"),
        ("Cpus_allowed_list:\t0,1,2,5", "Cpus_allowed_list:\t0-2,5"),
        ("Mems_allowed_list:\t", "Mems_allowed_list:\t"),
        ("x86_Thread_features:\tshstk wrss", "x86_Thread_features:\tshstk wrss "),
        ("x86_Thread_features:", "x86_Thread_features:\t"),
        (
            "Speculation_Store_Bypass:\tthread vulnerable",
            "Speculation_Store_Bypass:\tthread vulnerable",
        ),
        ("StaBrk:\t099f3000 kB", "StaBrk:\t099f3000 kB"),
        ("Future:\t  kept as text  ", "Future:\tkept as text"),
    ],
    ids=lambda value: value.split(":")[0] if ":" in value else value,
)
def test_each_line_is_printed_like_the_kernel(line: str, printed: str) -> None:
    status = parse_status(line + "\n")

    text = format_status(status)

    assert text == printed + "\n"
    assert parse_status(text) == status


def test_format_keeps_the_order_and_ends_every_line() -> None:
    text = "Pid:\t1\nName:\tx\nVmRSS:\t4 kB\nUnknown:\ty"

    assert format_status(parse_status(text)) == (
        "Pid:\t1\nName:\tx\nVmRSS:\t       4 kB\nUnknown:\ty\n"
    )


def test_format_of_an_empty_status_is_empty() -> None:
    assert format_status(parse_status("")) == ""


def test_format_keeps_s390_continuation_lines() -> None:
    # task_show_regs() (arch/s390/kernel/traps.c, up to 2.6.37) continued lines, indented.
    text = "Name:\tx\nUser GPRS:\t00000000 00000001\n           00000002 00000003\nPid:\t1\n"

    status = parse_status(text)

    assert status["User GPRS"] == "00000000 00000001\n           00000002 00000003"
    assert format_status(status) == text
    assert parse_status(format_status(status)) == status


def test_format_of_non_utf8_name_round_trips_through_bytes() -> None:
    status = parse_status(b"Name:\ta\xff\\n\n")

    text = format_status(status)

    assert text.encode("utf-8", "surrogateescape") == b"Name:\ta\xff\\n\n"
    assert parse_status(text) == status


def test_formatted_memory_is_whole_kb() -> None:
    status = parse_status("VmRSS:\t1 kB\n").replace(rss=5 * KB)

    assert format_status(status) == "VmRSS:\t       5 kB\n"


@pytest.mark.parametrize("given", [5, None, {}, {"Name": "x"}], ids=repr)
def test_only_a_status_is_formatted(given: object) -> None:
    with pytest.raises(TypeError, match=r"^format_status\(\) takes a ProcStatus, not "):
        format_status(given)  # type: ignore[arg-type]
