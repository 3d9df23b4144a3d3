"""read_tree: a process and its descendants, over a fake root (the ppid scan) and live
(the children files), with totals that leave out what could not be measured."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from helpers_live import SYSTEM_PYTHON, requires_proc, run_as_nobody, shared_region_tree
from helpers_rollup import add_process
from procstatus import ProcessNotFoundError, ProcessTree, parse_rollup, read_pid, read_tree
from procstatus._tree import _walk_children, _walk_scan
from strategies import ROLLUP_FIXTURES

ROLLUP = parse_rollup((ROLLUP_FIXTURES / "child-idle.rollup").read_bytes())
MIB = 1 << 20


@pytest.fixture
def fake(tmp_path: Path) -> Path:
    """init (1) > 10 > {11 > 13, 12 (a zombie)}, and 20 beside 10; no task dirs, so no
    children files: read_tree scans the ppids."""
    add_process(tmp_path, 1, ppid=0)
    add_process(tmp_path, 10, ppid=1)
    add_process(tmp_path, 11, ppid=10)
    add_process(tmp_path, 12, ppid=10, rollup=b"", rss_kb=None)
    add_process(tmp_path, 13, ppid=11)
    add_process(tmp_path, 20, ppid=1)
    return tmp_path


def test_the_tree_is_depth_first_with_children_in_pid_order(fake: Path) -> None:
    tree = read_tree(10, fake)

    assert [(process.pid, process.ppid, process.depth) for process in tree.processes] == [
        (10, 1, 0),
        (11, 10, 1),
        (13, 11, 2),
        (12, 10, 1),
    ]
    assert [process.name for process in tree.processes] == ["p10", "p11", "p13", "p12"]


def test_sizes_come_from_each_rollup_and_a_zombie_counts_zero(fake: Path) -> None:
    tree = read_tree(10, fake)

    first, zombie = tree.processes[0], tree.processes[3]
    assert (first.rss, first.pss, first.uss, first.swap) == (
        ROLLUP.rss,
        ROLLUP.pss,
        ROLLUP.uss,
        ROLLUP.swap,
    )
    assert (zombie.rollup, zombie.problem, zombie.rss, zombie.pss) == (None, None, 0, 0)


def test_totals_add_up_every_measured_process(fake: Path) -> None:
    tree = read_tree(10, fake)

    assert ROLLUP.rss is not None
    assert ROLLUP.pss is not None
    assert ROLLUP.uss is not None
    assert (tree.total.rss, tree.total.pss, tree.total.uss) == (
        3 * ROLLUP.rss,
        3 * ROLLUP.pss,
        3 * ROLLUP.uss,
    )
    assert tree.unmeasured == 0


def test_processes_over_max_rss_are_listed_but_left_out_of_the_totals(fake: Path) -> None:
    (fake / "13" / "status").write_bytes(
        (fake / "13" / "status").read_bytes().replace(b" 8688 kB", b"999999 kB")
    )

    tree = read_tree(10, fake, max_rss=100 * MIB)

    big = tree.processes[2]
    assert (big.pid, big.problem, big.rss, big.measured) == (13, "RSS above max_rss", None, False)
    assert tree.unmeasured == 1
    assert tree.total.rss == 2 * (ROLLUP.rss or 0)


def test_a_leaf_is_a_tree_of_one(fake: Path) -> None:
    assert [process.pid for process in read_tree(20, fake).processes] == [20]


def test_a_missing_root_process_is_not_found(fake: Path) -> None:
    with pytest.raises(ProcessNotFoundError):
        read_tree(99, fake)


def test_the_json_object_has_the_documented_keys(fake: Path) -> None:
    document = read_tree(10, fake).to_json_dict()

    assert list(document) == ["root", "processes", "total"]
    assert document["root"] == 10
    assert list(document["processes"][0]) == [
        "pid",
        "ppid",
        "name",
        "depth",
        "rss",
        "pss",
        "uss",
        "swap",
    ]
    assert list(document["total"]) == ["rss", "pss", "uss", "swap"]
    assert json.loads(json.dumps(document)) == document


# ---- live: the children files ---------------------------------------------------------


@pytest.mark.live
@requires_proc
def test_a_live_tree_shows_the_overcount_of_adding_up_rss() -> None:
    with shared_region_tree(64 * MIB, children=4) as shared:
        tree = read_tree(shared.pid)

    assert isinstance(tree, ProcessTree)
    assert [process.pid for process in tree.processes] == [shared.pid, *sorted(shared.children)]
    assert [process.depth for process in tree.processes] == [0, 1, 1, 1, 1]
    assert tree.unmeasured == 0
    assert tree.total.rss >= 5 * 64 * MIB
    assert tree.total.uss <= tree.total.pss < 2 * 64 * MIB + 5 * 30 * MIB
    assert tree.total.rss > 2.5 * tree.total.pss


@pytest.mark.live
@requires_proc
def test_children_files_and_the_ppid_scan_find_the_same_tree() -> None:
    if not os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"):
        pytest.skip("no children files: a kernel without CONFIG_PROC_CHILDREN")
    with shared_region_tree(MIB, children=3) as shared:
        top = read_pid(shared.pid)
        by_children = [(status.pid, depth) for status, depth in _walk_children("/proc", top)]
        by_scan = [(status.pid, depth) for status, depth in _walk_scan("/proc", top)]

    assert by_children == by_scan
    assert len(by_children) == 4


READ_TREE_AS_NOBODY = """
import json, sys
try:
    import procstatus
except ImportError as error:
    print(json.dumps({"import": str(error)}))
    raise SystemExit(0)
print(json.dumps(procstatus.read_tree(int(sys.argv[1])).to_json_dict()))
"""


@pytest.mark.live
@requires_proc
def test_processes_of_another_user_are_listed_without_sizes() -> None:
    with shared_region_tree(MIB, children=2) as shared:
        result = run_as_nobody([SYSTEM_PYTHON, "-c", READ_TREE_AS_NOBODY, str(shared.pid)])
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    if "import" in answer:
        pytest.skip(f"uid 65534 cannot import procstatus/attrs: {answer['import']}")
    assert [process["pid"] for process in answer["processes"]] == [
        shared.pid,
        *sorted(shared.children),
    ]
    assert all(process["pss"] is None for process in answer["processes"])
    assert answer["total"] == {"rss": 0, "pss": 0, "uss": 0, "swap": 0}
