"""check_invariants: the relations task_mem() guarantees between memory lines of one read."""

from __future__ import annotations

import pytest

from procstatus import Violation, check_invariants, parse_status

PEAK_BELOW_SIZE = Violation(
    rule="VmPeak >= VmSize", message="VmPeak (8 kB) is below VmSize (12 kB)"
)
HWM_BELOW_RSS = Violation(rule="VmHWM >= VmRSS", message="VmHWM (4 kB) is below VmRSS (8 kB)")


def memory(**kb: int) -> str:
    """A status text with the given memory lines, in kB, in the kernel's order."""
    order = ("VmPeak", "VmSize", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem")
    return "Name:\tx\n" + "".join(f"{key}:\t{kb[key]:8d} kB\n" for key in order if key in kb)


@pytest.mark.parametrize(
    ("text", "violations"),
    [
        (memory(VmPeak=12, VmSize=12, VmHWM=8, VmRSS=8), ()),
        (memory(VmPeak=16, VmSize=12, VmHWM=12, VmRSS=8), ()),
        (memory(VmPeak=8, VmSize=12, VmHWM=8, VmRSS=8), (PEAK_BELOW_SIZE,)),
        (memory(VmPeak=16, VmSize=12, VmHWM=4, VmRSS=8), (HWM_BELOW_RSS,)),
        (memory(VmPeak=8, VmSize=12, VmHWM=4, VmRSS=8), (PEAK_BELOW_SIZE, HWM_BELOW_RSS)),
        (memory(VmSize=4, VmRSS=8), ()),  # 2.6.0: no peaks; RSS above size is not a rule
        (memory(VmHWM=4), ()),  # half a pair is not checked
        ("Name:\tkthreadd\nKthread:\t1\n", ()),
        (memory(VmHWM=8, VmRSS=8, RssAnon=2, RssFile=6, RssShmem=0), ()),
        (
            memory(VmHWM=8, VmRSS=8, RssAnon=2, RssFile=4, RssShmem=1),
            (
                Violation(
                    rule="VmRSS == RssAnon + RssFile + RssShmem",
                    message="VmRSS (8 kB) is not RssAnon + RssFile + RssShmem (7 kB)",
                ),
            ),
        ),
        (memory(VmHWM=8, VmRSS=8, RssAnon=2, RssFile=4), ()),  # no RssShmem: no sum
    ],
    ids=[
        "equal",
        "peaks-above",
        "peak-below-size",
        "hwm-below-rss",
        "both-peaks-below",
        "rss-above-size",
        "half-pair",
        "kernel-thread",
        "rss-sum",
        "rss-sum-broken",
        "rss-sum-incomplete",
    ],
)
def test_check_invariants(text: str, violations: tuple[Violation, ...]) -> None:
    assert check_invariants(parse_status(text)) == violations


def test_a_replaced_peak_below_the_current_value_is_reported() -> None:
    status = parse_status(memory(VmPeak=12, VmSize=12, VmHWM=8, VmRSS=8))

    assert check_invariants(status.replace(peak_rss=4 * 1024)) == (HWM_BELOW_RSS,)


def test_violations_are_values() -> None:
    assert Violation("VmHWM >= VmRSS", "VmHWM (4 kB) is below VmRSS (8 kB)") == HWM_BELOW_RSS
    assert HWM_BELOW_RSS.rule == "VmHWM >= VmRSS"


@pytest.mark.parametrize("given", [5, None, {}, {"VmHWM": 1, "VmRSS": 2}], ids=repr)
def test_only_a_status_is_checked(given: object) -> None:
    with pytest.raises(TypeError, match=r"^check_invariants\(\) takes a ProcStatus, not "):
        check_invariants(given)  # type: ignore[arg-type]
