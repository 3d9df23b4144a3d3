"""read_tree: a process and its descendants, over a fake root (the ppid scan) and live
(the children files), with totals that leave out what could not be measured."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Union

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers_live import SYSTEM_PYTHON, requires_proc, run_as_nobody, shared_region_tree
from helpers_rollup import add_process, status
from procstatus import (
    ProcessNotFoundError,
    ProcessTree,
    ProcfsFileError,
    StatusParseError,
    parse_rollup,
    read_pid,
    read_tree,
)
from procstatus._tree import _walk
from strategies import ROLLUP_DAMAGE_BASES, ROLLUP_FIXTURES, SOME, mutated

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


def test_the_tree_is_walked_from_the_pid_asked_for(fake: Path) -> None:
    # The Pid line of a fake (or damaged) status may name another process: the
    # tree belongs to the directory read, as every other reader's result does.
    status = fake / "10" / "status"
    status.write_bytes(status.read_bytes().replace(b"Pid:\t10\n", b"Pid:\t99\n"))

    tree = read_tree(10, fake)

    assert [process.pid for process in tree.processes] == [10, 11, 13, 12]
    assert tree.root == 10


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


# ---- descendants that cannot be read ----------------------------------------------------

#: A status the parser refuses, with an intact PPid line.
DAMAGED = b"VmRSS:\t    lots kB\n"


def add_children(root: Path, pid: int, children: Union[bytes, str]) -> None:
    """``root/<pid>/task/<pid>/children``: the text given, or a FIFO for ``"fifo"``."""
    task = root / str(pid) / "task" / str(pid)
    task.mkdir(parents=True)
    if children == "fifo":
        os.mkfifo(task / "children")
    else:
        assert isinstance(children, bytes)
        (task / "children").write_bytes(children)


def damage(root: Path, pid: int) -> None:
    """Make ``pid``'s status one no kernel writes, its PPid line left intact."""
    path = root / str(pid) / "status"
    path.write_bytes(path.read_bytes().replace(b"VmRSS:\t    8688 kB\n", DAMAGED))


def problems(tree: ProcessTree) -> list[tuple[int, int, str, int, str]]:
    return [
        (process.pid, process.ppid, process.name, process.depth, process.problem or "")
        for process in tree.processes
    ]


@pytest.fixture
def listed(fake: Path) -> Path:
    """The fake tree with children files: 10 lists 11 and 12, 11 lists 13."""
    add_children(fake, 10, b"11 12 ")
    add_children(fake, 11, b"13 ")
    add_children(fake, 12, b"")
    add_children(fake, 13, b"")
    return fake


def test_a_listed_child_with_a_damaged_status_is_listed_with_its_problem(listed: Path) -> None:
    damage(listed, 11)

    tree = read_tree(10, listed)

    assert [row[:4] for row in problems(tree)] == [
        (10, 1, "p10", 0),
        (11, 10, "?", 1),
        (13, 11, "p13", 2),
        (12, 10, "p12", 1),
    ]
    problem = tree.processes[1].problem
    assert problem is not None
    assert problem.startswith("damaged status: line 6 (VmRSS): ")
    assert problem.endswith(": 'VmRSS:\\t    lots kB'")
    assert tree.unmeasured == 1
    assert tree.total.rss == 2 * (ROLLUP.rss or 0)  # 10 and 13; 12 is a zombie


def test_a_listed_child_whose_status_is_a_fifo_is_listed_with_its_problem(listed: Path) -> None:
    (listed / "13" / "status").unlink()
    os.mkfifo(listed / "13" / "status")

    tree = read_tree(10, listed)

    assert problems(tree)[2] == (
        13,
        11,
        "?",
        2,
        "status unreadable: not a regular file, so not a procfs file",
    )
    assert tree.unmeasured == 1


def test_a_children_file_that_cannot_be_read_is_replaced_by_the_ppid_scan(
    listed: Path,
) -> None:
    (listed / "11" / "task" / "11" / "children").unlink()
    os.mkfifo(listed / "11" / "task" / "11" / "children")

    tree = read_tree(10, listed)

    assert [(process.pid, process.depth) for process in tree.processes] == [
        (10, 0),
        (11, 1),
        (13, 2),
        (12, 1),
    ]
    assert tree.unmeasured == 0


def test_the_scan_places_a_damaged_status_by_its_ppid_line(fake: Path) -> None:
    damage(fake, 11)

    tree = read_tree(10, fake)

    assert [(pid, ppid, name, depth) for pid, ppid, name, depth, _ in problems(tree)] == [
        (10, 1, "p10", 0),
        (11, 10, "?", 1),
        (13, 11, "p13", 2),
        (12, 10, "p12", 1),
    ]
    assert tree.processes[1].problem is not None
    assert tree.processes[1].problem.startswith("damaged status: line 6 (VmRSS)")


def test_the_scan_cannot_place_a_status_it_cannot_read(fake: Path) -> None:
    # A FIFO names no parent: 11 and the 13 below it are not known to be in the tree.
    (fake / "11" / "status").unlink()
    os.mkfifo(fake / "11" / "status")

    tree = read_tree(10, fake)

    assert [process.pid for process in tree.processes] == [10, 12]


# ---- fuzz: whatever the descendants' files hold, a tree -----------------------------------

Content = Union[bytes, str, None]
#: What may stand where a file should: a text, nothing, a FIFO or a directory.
CONTENTS = st.one_of(st.none(), st.sampled_from(["fifo", "dir"]), st.binary(max_size=60))


def place(path: Path, content: Content) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if content == "fifo":
        os.mkfifo(path)
    elif content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)


@st.composite
def descendant_files(draw: st.DrawFn, pid: int) -> tuple[Content, Content, Content]:
    """Status, smaps_rollup and children file of one descendant: mostly sound, often not."""
    parent = draw(st.sampled_from([10, 11, 12, pid - 1]))
    sound = status(pid, draw(st.integers(0, 10**6)), ppid=parent)
    status_text = draw(st.one_of(st.just(sound), mutated(st.just(sound)), CONTENTS))
    rollup = draw(st.one_of(st.just(ROLLUP_BYTES), mutated(ROLLUP_DAMAGE_BASES), CONTENTS))
    children = draw(
        st.one_of(
            st.lists(st.integers(11, 15), max_size=3).map(
                lambda pids: "".join(f"{child} " for child in pids).encode()
            ),
            CONTENTS,
        )
    )
    return status_text, rollup, children


ROLLUP_BYTES = (ROLLUP_FIXTURES / "child-idle.rollup").read_bytes()


@SOME
@given(
    root_children=st.one_of(st.none(), st.just(b"11 12 "), CONTENTS),
    descendants=st.tuples(*(descendant_files(pid) for pid in range(11, 16))),
    max_rss=st.one_of(st.none(), st.integers(0, 1 << 30)),
)
def test_any_descendants_give_a_tree(
    root_children: Content,
    descendants: tuple[tuple[Content, Content, Content], ...],
    max_rss: Union[int, None],
) -> None:
    with tempfile.TemporaryDirectory() as where:
        root = Path(where)
        add_process(root, 10, ppid=1)
        if root_children is not None:
            place(root / "10" / "task" / "10" / "children", root_children)
        for pid, (status_text, rollup, children) in enumerate(descendants, start=11):
            place(root / str(pid) / "status", status_text)
            place(root / str(pid) / "smaps_rollup", rollup)
            if children is not None:
                place(root / str(pid) / "task" / str(pid) / "children", children)
        tree = read_tree(10, root, max_rss=max_rss)

    assert tree.processes[0].pid == 10
    pids = [process.pid for process in tree.processes]
    assert len(pids) == len(set(pids))
    measured = [process for process in tree.processes if process.measured]
    assert tree.total.rss == sum(process.rss or 0 for process in measured)
    assert tree.unmeasured == len(tree.processes) - len(measured)
    for process in tree.processes:
        assert (process.name == "?") <= (process.problem is not None)


@SOME
@given(status_text=st.one_of(mutated(st.just(status(10, 8688))), CONTENTS))
def test_a_damaged_root_status_raises_what_read_pid_raises(status_text: Content) -> None:
    with tempfile.TemporaryDirectory() as where:
        root = Path(where)
        add_process(root, 11, ppid=10)
        place(root / "10" / "status", status_text)
        try:
            tree = read_tree(10, root)
        except (StatusParseError, ProcfsFileError, ProcessNotFoundError):
            return  # documented: read_pid's errors for the root process
    assert tree.processes[0].pid == 10


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
        by_children = [
            (node.pid, node.depth) for node in _walk("/proc", shared.pid, top, children_files=True)
        ]
        by_scan = [
            (node.pid, node.depth) for node in _walk("/proc", shared.pid, top, children_files=False)
        ]

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
