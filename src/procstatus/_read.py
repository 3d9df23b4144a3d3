"""Reading status files under a proc root: the thin I/O layer over the pure parser.

Every function takes a ``root`` (``/proc`` by default) so that a procfs mounted
elsewhere (a container's, seen from the host) or a fake tree built in a test
reads the same way. Paths, bounded reads and the translation of errors into
the exceptions of ``_errors.py`` live in ``_procfs.py``; the page
docs/reading.md lists what each exception means.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Optional, Union

from ._cmdline import parse_cmdline
from ._errors import ProcessNotFoundError, StatusParseError
from ._model import Memory, ProcStatus
from ._parse import parse_memory, parse_status
from ._procfs import check_id, list_pids, list_tids, read_file, root_str

__all__ = [
    "CMDLINE_LIMIT",
    "ScanError",
    "iter_processes",
    "read_cmdline",
    "read_memory",
    "read_pid",
    "read_task",
    "thread_ids",
]

# The longest command line execve(2) can create: argv and envp strings together
# may take at most 3/4 of _STK_LIM (8 MiB, include/uapi/linux/resource.h), and
# less under a smaller stack limit (fs/exec.c bprm_stack_limits). cmdline shows
# only [arg_start, arg_end), or one page after setproctitle(3) (fs/proc/base.c
# get_mm_cmdline), so a longer text was not written by the kernel for a process
# started normally: prctl(PR_SET_MM_ARG_*) by a privileged process, or a fake tree.
CMDLINE_LIMIT = 6 << 20


def read_pid(pid: int, root: Union[str, os.PathLike[str]] = "/proc") -> ProcStatus:
    """Read and parse ``<root>/<pid>/status``.

    ``pid`` may also be the id of a thread that is not a thread group leader:
    procfs serves ``/proc/<tid>`` although it does not list it, and the result
    is that thread's status.

    Raises :class:`ProcessNotFoundError` when the process does not exist or exits
    while being read, :class:`ProcfsPermissionError` when it may not be read,
    :class:`ProcfsNotFoundError` when ``root`` is not a proc root and
    :class:`ProcfsFileError` when what stands there is not a procfs file.
    """
    return parse_status(read_file(root_str(root), check_id(pid), "status"))


def read_memory(pid: int, root: Union[str, os.PathLike[str]] = "/proc") -> Optional[Memory]:
    """Read only the memory lines of ``<root>/<pid>/status``, in bytes.

    ``None`` for a kernel thread or a zombie (they have no memory lines). Meant for
    sampling loops: one open, one read and a close per call. Raises what
    :func:`read_pid` raises.
    """
    return parse_memory(read_file(root_str(root), check_id(pid), "status"))


def read_cmdline(pid: int, root: Union[str, os.PathLike[str]] = "/proc") -> tuple[str, ...]:
    """The arguments of process ``pid`` (``<root>/<pid>/cmdline``) as it last exec'd them.

    ``()`` for a kernel thread or a zombie. A process may rewrite its own
    arguments (setproctitle(3)), so this is what the process shows, not proof
    of what it ran. Raises what :func:`read_pid` raises, and
    :class:`ProcfsFileError` for a text longer than :data:`CMDLINE_LIMIT`.
    """
    return parse_cmdline(read_file(root_str(root), check_id(pid), "cmdline", limit=CMDLINE_LIMIT))


def read_task(pid: int, tid: int, root: Union[str, os.PathLike[str]] = "/proc") -> ProcStatus:
    """Read and parse the status of thread ``tid`` of process ``pid``.

    That is ``<root>/<pid>/task/<tid>/status``: the thread's own name, state,
    ``Pid`` (= ``tid``) and context switches; memory lines are the process's.
    Raises :class:`ProcessNotFoundError` with ``.tid`` set when either is gone.
    """
    pid = check_id(pid, "pid")
    tid = check_id(tid, "tid")
    return parse_status(read_file(root_str(root), pid, "status", tid))


def thread_ids(pid: int, root: Union[str, os.PathLike[str]] = "/proc") -> list[int]:
    """The thread ids of process ``pid``, sorted (the entries of ``<root>/<pid>/task``).

    The list is a snapshot: threads may start or end right after it is taken.
    """
    return list_tids(root_str(root), check_id(pid, "pid"))


#: What ``iter_processes`` hands to its ``on_error`` hook for one process.
ScanError = Union[OSError, StatusParseError]


def iter_processes(
    root: Union[str, os.PathLike[str]] = "/proc",
    *,
    on_error: Optional[Callable[[int, ScanError], None]] = None,
) -> Iterator[ProcStatus]:
    """Every process under ``root`` that can be read, in pid order, as :class:`ProcStatus`.

    ``root`` is listed when this function is called (so a bad root raises here, not
    on the first ``next()``); each status is read when the iterator reaches it.
    A process that exits in between is skipped silently. Any other ``OSError``
    for one process, and a :class:`StatusParseError` for its text, is passed to
    ``on_error(pid, error)`` when given (which may raise to stop the scan);
    without ``on_error``, permission errors (:class:`ProcfsPermissionError`) are
    skipped silently and other errors are raised. Threads other than group leaders
    are not listed; see :func:`thread_ids`.
    """
    root = root_str(root)
    return _scan(root, list_pids(root), on_error)


def _scan(
    root: str, pids: list[int], on_error: Optional[Callable[[int, ScanError], None]]
) -> Iterator[ProcStatus]:
    for pid in pids:
        try:
            # The root was checked by _list_pids: a vanished pid is just gone.
            data = read_file(root, pid, "status", check_root=False)
        except ProcessNotFoundError:
            continue
        except OSError as exc:
            if on_error is not None:
                on_error(pid, exc)
            elif not isinstance(exc, PermissionError):
                raise
            continue
        try:
            status = parse_status(data)
        except StatusParseError as exc:
            if on_error is None:
                raise
            on_error(pid, exc)
            continue
        yield status
