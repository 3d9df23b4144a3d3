"""A process and all its descendants, with RSS, PSS, USS and swap each: :func:`read_tree`.

# Strategy

Finding the descendants has two paths, with the same result:

- **children files** (CONFIG_PROC_CHILDREN, Linux 3.5+): ``/proc/PID/task/TID/children``
  lists the children of each thread (fs/proc/array.c children_seq_show()), so
  the tree is walked from its root, reading only its own processes. Taken
  when the root process's main thread has that file.
- **ppid scan**: every process's status is read (:func:`iter_processes`) and the
  tree is built from the ``PPid`` lines. For kernels built without
  CONFIG_PROC_CHILDREN and for fake roots; also for the children of a process
  whose children files cannot be read (a FIFO under a fake root, a task
  directory hidden by ``hidepid=``), scanning once for the whole tree.

Both are snapshots of a moving target: a process may start or end while the
tree is read. One that ends is left out; one that is reparented (to init or a
subreaper) after it was found stays where it was found.

A descendant whose status cannot be read or parsed is still listed, with the
name ``"?"`` and its problem, and its own descendants are walked: the children
files list it by pid, and the scan places it by its ``PPid`` line when that
line alone is intact. (A status the scan cannot read at all names no parent:
such a process, and what hangs below it, cannot be placed.)

Each process is then measured with :func:`read_rollup`. Processes this user may
not read (another user's: smaps_rollup needs ptrace read access) or that
``max_rss`` skips are listed with the reason and left out of the totals.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Union

import attrs

from ._errors import (
    ProcessNotFoundError,
    RollupParseError,
    RssLimitExceededError,
    StatusParseError,
)
from ._model import ProcStatus
from ._parse import parse_status
from ._procfs import check_id, exists, is_id_name, list_tids, read_file, root_str
from ._read import ScanError, iter_processes
from ._read_rollup import read_rollup
from ._rollup import Rollup

__all__ = ["ProcessTree", "TreeProcess", "TreeTotal", "read_tree"]

# A children file lists a thread's children as "%d " each (fs/proc/array.c
# children_seq_show()): at most PID_MAX_LIMIT (2**22) of up to 8 bytes.
_CHILDREN_LIMIT = 1 << 25


@attrs.frozen(kw_only=True)
class TreeProcess:
    """One process of a :class:`ProcessTree`.

    ``rollup`` is None when the process was not measured (``problem`` says why)
    or has no memory (a zombie; ``problem`` is None then, and its sizes are 0).
    """

    pid: int
    #: The parent's pid, from the process's status.
    ppid: int
    #: The command name (comm), as the status gives it; ``"?"`` when the
    #: status could not be read or parsed (``problem`` says why).
    name: str
    #: 0 for the root of the tree, 1 for its children, ...
    depth: int
    rollup: Optional[Rollup]
    #: Why the process was not measured ("permission denied", "RSS above
    #: max_rss", "damaged status: ...", "smaps_rollup unreadable: ..."); None
    #: when it was.
    problem: Optional[str] = None

    @property
    def measured(self) -> bool:
        """Whether the sizes are known (and counted in the totals)."""
        return self.problem is None

    def _size(self, attribute: str) -> Optional[int]:
        if self.problem is not None:
            return None
        if self.rollup is None:
            return 0  # no address space: no memory at all
        value: Optional[int] = getattr(self.rollup, attribute)
        return value

    @property
    def rss(self) -> Optional[int]:
        """Resident memory, shared pages in full (bytes); None when not measured."""
        return self._size("rss")

    @property
    def pss(self) -> Optional[int]:
        """Proportional set size: shared pages divided among their users (bytes)."""
        return self._size("pss")

    @property
    def uss(self) -> Optional[int]:
        """Unique set size: pages only this process maps (bytes); see Rollup.uss."""
        return self._size("uss")

    @property
    def swap(self) -> Optional[int]:
        """Swapped-out anonymous and shared memory (bytes; smaps_rollup ``Swap``)."""
        return self._size("swap")


@attrs.frozen(kw_only=True)
class TreeTotal:
    """Sums over the measured processes of a tree (bytes).

    ``rss`` counts every shared page once per process that maps it; ``pss``
    divides it among them, so ``pss`` is what the tree uses and ``rss - pss``
    the overcount of adding up RSS.
    """

    rss: int
    pss: int
    uss: int
    swap: int


@attrs.frozen(kw_only=True)
class ProcessTree:
    """A process and its descendants, depth first, children in pid order."""

    #: The pid the tree was read from.
    root: int
    processes: tuple[TreeProcess, ...]
    total: TreeTotal

    @property
    def unmeasured(self) -> int:
        """How many processes are listed without sizes (and left out of ``total``)."""
        return sum(1 for process in self.processes if not process.measured)

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON object of ``procstatus tree --json`` (docs/cli.md): sizes in bytes.

        A process that was not measured has ``null`` sizes.
        """
        return {
            "root": self.root,
            "processes": [
                {
                    "pid": process.pid,
                    "ppid": process.ppid,
                    "name": process.name,
                    "depth": process.depth,
                    "rss": process.rss,
                    "pss": process.pss,
                    "uss": process.uss,
                    "swap": process.swap,
                }
                for process in self.processes
            ],
            "total": attrs.asdict(self.total),
        }


def read_tree(
    pid: int,
    root: Union[str, os.PathLike[str]] = "/proc",
    *,
    max_rss: Optional[int] = None,
) -> ProcessTree:
    """Process ``pid`` and all its descendants, each with RSS, PSS, USS and swap.

    Totals add up the measured processes, so ``total.rss`` against
    ``total.pss`` shows how much adding up RSS overcounts the tree. With
    ``max_rss`` (bytes), processes above it are listed but not measured (see
    :func:`read_rollup`). Raises :class:`ProcessNotFoundError` when ``pid``
    does not exist, and what :func:`read_pid` raises for it; errors of single
    descendants are recorded in their ``problem`` instead (a descendant whose
    status cannot be read or parsed is listed with the name ``"?"``).

    >>> tree = read_tree(os.getpid())                       # doctest: +SKIP
    >>> tree.total.rss, tree.total.pss                      # doctest: +SKIP
    """
    root = root_str(root)
    pid = check_id(pid)
    top = parse_status(read_file(root, pid, "status"))
    processes = tuple(
        process
        for process in (_measure(root, node, max_rss) for node in _walk(root, pid, top))
        if process is not None
    )
    measured = [process for process in processes if process.measured]
    total = TreeTotal(
        rss=sum(process.rss or 0 for process in measured),
        pss=sum(process.pss or 0 for process in measured),
        uss=sum(process.uss or 0 for process in measured),
        swap=sum(process.swap or 0 for process in measured),
    )
    return ProcessTree(root=pid, processes=processes, total=total)


@attrs.frozen
class _Child:
    """A child found for a parent: its status, or why that could not be read."""

    pid: int
    status: Optional[ProcStatus]
    error: Optional[ScanError] = None


@attrs.frozen
class _Node:
    """A process of the tree as found, before it is measured."""

    pid: int
    ppid: int
    depth: int
    status: Optional[ProcStatus]
    error: Optional[ScanError] = None


def _walk(
    root: str, pid: int, top: ProcStatus, *, children_files: Optional[bool] = None
) -> list[_Node]:
    """``pid`` (whose status is ``top``) and its descendants, depth first, children in pid order.

    The tree is walked from the pid asked for, not from the status's Pid line: a
    fake or damaged status may name another process there. ``children_files``
    chooses the path (both paths are tested against each other); by default
    the children files when the process has them.
    """
    if children_files is None:
        try:
            children_files = exists(root, pid, "children", pid)
        except OSError:
            children_files = False  # a children file that cannot even be looked at
    scan = _ParentIndex(root)
    found = []
    stack = [_Node(pid=pid, ppid=top.ppid or 0, depth=0, status=top)]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node.pid in seen:
            continue  # a pid met twice (reused while the tree was read)
        seen.add(node.pid)
        found.append(node)
        if node.pid == 0:
            continue  # pid 0 is no process: only the ppid of init and kthreadd
        children = _listed_children(root, node.pid) if children_files else None
        if children is None:
            # Without children files, or when one of this process's cannot be
            # read (a FIFO or a damaged tree under a fake root, a task directory
            # hidden by hidepid=): its children are found by their PPid lines.
            children = scan.children(node.pid)
        stack.extend(
            _Node(
                pid=child.pid,
                ppid=node.pid,
                depth=node.depth + 1,
                status=child.status,
                error=child.error,
            )
            for child in reversed(children)
        )
    return found


def _listed_children(root: str, pid: int) -> Optional[list[_Child]]:
    """The children of ``pid`` from its threads' children files; None when one cannot be read."""
    listed = _children_of(root, pid)
    if listed is None:
        return None
    children = []
    for child in listed:
        try:
            status = parse_status(read_file(root, child, "status", check_root=False))
        except ProcessNotFoundError:
            continue  # exited since it was listed
        except (OSError, StatusParseError) as exc:
            # The kernel listed it as a child: it belongs to the tree, with its problem.
            children.append(_Child(pid=child, status=None, error=exc))
            continue
        if status.ppid == pid:  # not reused by another process meanwhile
            children.append(_Child(pid=child, status=status))
    return children


def _children_of(root: str, pid: int) -> Optional[list[int]]:
    """The pids the children files of ``pid``'s threads list, sorted; None when unreadable."""
    try:
        tids = list_tids(root, pid)
    except ProcessNotFoundError:
        return []  # gone: no children any more
    except OSError:
        return None
    found: set[int] = set()
    for tid in tids:
        try:
            data = read_file(root, pid, "children", tid, limit=_CHILDREN_LIMIT, check_root=False)
        except ProcessNotFoundError:
            continue  # the thread ended; its children moved to another thread or init
        except OSError:
            return None
        found.update(
            int(word) for word in data.split() if is_id_name(word.decode("ascii", "replace"))
        )
    return sorted(found)


class _ParentIndex:
    """Children by parent pid from every process's status (the ppid scan), read at first use."""

    def __init__(self, root: str) -> None:
        self._root = root
        self._by_parent: Optional[dict[int, list[_Child]]] = None

    def children(self, pid: int) -> list[_Child]:
        if self._by_parent is None:
            self._by_parent = _scan_parents(self._root)
        return self._by_parent.get(pid, [])


def _scan_parents(root: str) -> dict[int, list[_Child]]:
    by_parent: dict[int, list[_Child]] = {}
    unreadable: dict[int, ScanError] = {}
    for status in iter_processes(root, on_error=unreadable.__setitem__):
        if status.pid is not None and status.ppid is not None:
            by_parent.setdefault(status.ppid, []).append(_Child(pid=status.pid, status=status))
    for pid, error in unreadable.items():
        # A process whose status cannot be parsed is placed by its PPid line
        # when that line alone is intact; one whose status cannot be read at all
        # (permission, not a file) has no known parent and cannot be placed.
        ppid = _salvaged_ppid(root, pid) if isinstance(error, StatusParseError) else None
        if ppid is not None:
            by_parent.setdefault(ppid, []).append(_Child(pid=pid, status=None, error=error))
    for children in by_parent.values():
        children.sort(key=lambda child: child.pid)
    return by_parent


def _salvaged_ppid(root: str, pid: int) -> Optional[int]:
    """The PPid of a status text that does not parse, when its one PPid line is intact."""
    try:
        data = read_file(root, pid, "status", check_root=False)
    except OSError:
        return None
    # The kernel writes "PPid:\t%d\n" (fs/proc/array.c task_state()); a text with
    # two PPid lines, or a damaged one, tells nothing.
    values = [line[5:].strip(b" \t") for line in data.split(b"\n") if line.startswith(b"PPid:")]
    if len(values) != 1:
        return None
    text = values[0].decode("ascii", "replace")
    return int(text) if is_id_name(text) else None


def _measure(root: str, node: _Node, max_rss: Optional[int]) -> Optional[TreeProcess]:
    if node.status is None:
        assert node.error is not None  # a node has one or the other
        return TreeProcess(
            pid=node.pid,
            ppid=node.ppid,
            name="?",
            depth=node.depth,
            rollup=None,
            problem=_problem(node.error, "status"),
        )
    problem: Optional[str] = None
    rollup: Optional[Rollup] = None
    try:
        rollup = read_rollup(node.pid, root, max_rss=max_rss)
    except ProcessNotFoundError:
        return None  # exited while the tree was read
    except (OSError, RollupParseError, StatusParseError, RssLimitExceededError) as exc:
        problem = _problem(exc, "smaps_rollup")
    return TreeProcess(
        pid=node.pid,
        ppid=node.ppid,
        name=node.status.name or "",
        depth=node.depth,
        rollup=rollup,
        problem=problem,
    )


def _problem(
    error: Union[OSError, RollupParseError, StatusParseError, RssLimitExceededError], what: str
) -> str:
    """Why a process was not measured, short, naming the file (``what``) that failed."""
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, RssLimitExceededError):
        return "RSS above max_rss"
    if isinstance(error, StatusParseError):
        return f"damaged status: {error}"  # also from read_rollup's max_rss check
    if isinstance(error, RollupParseError):
        return f"damaged smaps_rollup: {error}"
    return f"{what} unreadable: {error.strerror or error}"
