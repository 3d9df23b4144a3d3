"""A process and all its descendants, with RSS, PSS, USS and swap each: :func:`read_tree`.

# Strategy

Finding the descendants has two paths, with the same result:

- **children files** (CONFIG_PROC_CHILDREN, Linux 3.5+): ``/proc/PID/task/TID/children``
  lists the children of each thread (fs/proc/array.c children_seq_show()), so
  the tree is walked from its root, reading only its own processes. Taken
  when the root process's main thread has that file.
- **ppid scan**: every process's status is read (:func:`iter_processes`) and the
  tree is built from the ``PPid`` lines. For kernels built without
  CONFIG_PROC_CHILDREN and for fake roots.

Both are snapshots of a moving target: a process may start or end while the
tree is read. One that ends is left out; one that is reparented (to init or a
subreaper) after it was found stays where it was found.

Each process is then measured with :func:`read_rollup`. Processes this user may
not read (another user's: smaps_rollup needs ptrace read access) or that
``max_rss`` skips are listed with the reason and left out of the totals.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
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
from ._read import iter_processes
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
    #: The command name (comm), as the status gives it.
    name: str
    #: 0 for the root of the tree, 1 for its children, ...
    depth: int
    rollup: Optional[Rollup]
    #: Why the process was not measured ("permission denied", "RSS above
    #: max_rss", ...); None when it was.
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
    descendants are recorded in their ``problem`` instead.

    >>> tree = read_tree(os.getpid())                       # doctest: +SKIP
    >>> tree.total.rss, tree.total.pss                      # doctest: +SKIP
    """
    root = root_str(root)
    pid = check_id(pid)
    top = parse_status(read_file(root, pid, "status"))
    found = list(_walk(root, top))
    processes = tuple(
        process
        for process in (_measure(root, status, depth, max_rss) for status, depth in found)
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


def _walk(root: str, top: ProcStatus) -> Iterator[tuple[ProcStatus, int]]:
    """The statuses of ``top`` and its descendants with their depth, depth first."""
    pid = top.pid if top.pid is not None else 0
    if exists(root, pid, "children", pid):
        return _walk_children(root, top)
    return _walk_scan(root, top)


def _walk_children(root: str, top: ProcStatus) -> Iterator[tuple[ProcStatus, int]]:
    stack = [(top, 0)]
    seen: set[int] = set()
    while stack:
        status, depth = stack.pop()
        pid = status.pid or 0
        if pid in seen:
            continue  # a pid met twice (reused while the tree was read)
        seen.add(pid)
        yield status, depth
        children = []
        for child in _children_of(root, pid):
            try:
                child_status = parse_status(read_file(root, child, "status", check_root=False))
            except (ProcessNotFoundError, PermissionError):
                continue  # exited since it was listed (or hidden from this user)
            if child_status.ppid == pid:  # not reused by another process meanwhile
                children.append(child_status)
        stack.extend((child, depth + 1) for child in sorted(children, key=_pid, reverse=True))


def _children_of(root: str, pid: int) -> list[int]:
    try:
        tids = list_tids(root, pid)
    except ProcessNotFoundError:
        return []
    found: set[int] = set()
    for tid in tids:
        try:
            data = read_file(root, pid, "children", tid, limit=_CHILDREN_LIMIT, check_root=False)
        except (ProcessNotFoundError, PermissionError):
            continue  # the thread ended; its children moved to another thread or init
        found.update(
            int(word) for word in data.split() if is_id_name(word.decode("ascii", "replace"))
        )
    return sorted(found)


def _walk_scan(root: str, top: ProcStatus) -> Iterator[tuple[ProcStatus, int]]:
    by_parent: dict[int, list[ProcStatus]] = {}
    for status in iter_processes(root, on_error=_ignore):
        by_parent.setdefault(status.ppid or 0, []).append(status)
    stack = [(top, 0)]
    seen: set[int] = set()
    while stack:
        status, depth = stack.pop()
        pid = status.pid or 0
        if pid in seen:
            continue
        seen.add(pid)
        yield status, depth
        children = by_parent.get(pid, [])
        if pid == 0:
            children = []  # pid 0 is no process: only the ppid of init and kthreadd
        stack.extend((child, depth + 1) for child in sorted(children, key=_pid, reverse=True))


def _ignore(pid: int, error: object) -> None:
    """Processes whose status cannot be read are not part of any tree we can show."""


def _pid(status: ProcStatus) -> int:
    return status.pid or 0


_PROBLEMS: Mapping[type[BaseException], str] = {
    PermissionError: "permission denied",
    RssLimitExceededError: "RSS above max_rss",
}


def _measure(
    root: str, status: ProcStatus, depth: int, max_rss: Optional[int]
) -> Optional[TreeProcess]:
    pid = status.pid or 0
    problem: Optional[str] = None
    rollup: Optional[Rollup] = None
    try:
        rollup = read_rollup(pid, root, max_rss=max_rss)
    except ProcessNotFoundError:
        return None  # exited while the tree was read
    except (OSError, RollupParseError, StatusParseError, RssLimitExceededError) as exc:
        problem = next(
            (text for kind, text in _PROBLEMS.items() if isinstance(exc, kind)), str(exc)
        )
    return TreeProcess(
        pid=pid,
        ppid=status.ppid or 0,
        name=status.name or "",
        depth=depth,
        rollup=rollup,
        problem=problem,
    )
