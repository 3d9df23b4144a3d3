"""The parsed status: :class:`ProcStatus`, and its memory view :class:`Memory`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Generic, NamedTuple, Optional, TypeVar, overload

from ._errors import StatusParseError
from ._fields import BY_ATTRIBUTE, FIELDS, MEMORY_FIELDS
from ._kinds import KB, Ids, SigQ, TaskState

__all__ = ["Memory", "ProcStatus"]

T = TypeVar("T")

_NOT_YET: Any = object()  # not converted yet (None is a value: absent)


class Memory(NamedTuple):
    """The memory lines of a status, in bytes; ``None`` where a line is absent.

    The kernel prints these only for tasks that have an address space, so a
    kernel thread or a zombie has no :class:`Memory` at all. Lines appeared over
    time (VmPeak and VmHWM in 2.6.15, VmSwap in 2.6.34, RssAnon/RssFile/RssShmem
    in 4.5), so each one may be ``None`` on an older kernel.

    RSS counts pages shared with other processes in each of them: adding up
    ``rss`` over processes counts shared pages more than once.

    A named tuple, like psutil's ``memory_info()`` and ``os.stat_result``, rather
    than an attrs class: it is built in C, which makes ``read_memory()`` in a
    sampling loop several microseconds cheaper (docs/performance.md). Read it by
    name; ``_replace()`` makes a changed copy.
    """

    #: VmPeak: the largest virtual size so far.
    peak_size: Optional[int] = None
    #: VmSize: virtual size now.
    size: Optional[int] = None
    #: VmLck: mlocked memory.
    locked: Optional[int] = None
    #: VmPin: pinned memory.
    pinned: Optional[int] = None
    #: VmHWM: the largest resident set so far (resettable, see reset_peak()).
    peak_rss: Optional[int] = None
    #: VmRSS: resident set now.
    rss: Optional[int] = None
    #: RssAnon: resident anonymous memory.
    rss_anon: Optional[int] = None
    #: RssFile: resident file mappings.
    rss_file: Optional[int] = None
    #: RssShmem: resident shared memory.
    rss_shmem: Optional[int] = None
    #: VmData: data segment.
    data: Optional[int] = None
    #: VmStk: stack.
    stack: Optional[int] = None
    #: VmExe: text segment.
    exe: Optional[int] = None
    #: VmLib: shared library code.
    lib: Optional[int] = None
    #: VmPTE: page tables.
    page_tables: Optional[int] = None
    #: VmPMD: second-level page tables (4.0 to 4.14).
    pmd_tables: Optional[int] = None
    #: VmSwap: swapped-out anonymous memory.
    swap: Optional[int] = None
    #: HugetlbPages: hugetlb memory.
    hugetlb: Optional[int] = None


class _Field(Generic[T]):
    """A typed attribute of :class:`ProcStatus`, bound by name to its table row."""

    __slots__ = ("key",)

    def __init__(self) -> None:
        self.key = ""

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.key = BY_ATTRIBUTE[attribute].name  # a KeyError here means table and model drifted

    @overload
    def __get__(self, status: None, owner: type) -> _Field[T]: ...

    @overload
    def __get__(self, status: ProcStatus, owner: type) -> T: ...

    def __get__(self, status: Optional[ProcStatus], owner: type) -> Any:
        if status is None:
            return self
        return status.get(self.key)


class ProcStatus(Mapping[str, Any]):
    """One parsed /proc/PID/status text.

    Read it by attribute (``status.peak_rss``) or by the kernel's name
    (``status["VmHWM"]``, ``status.get("VmHWM")``, ``"VmHWM" in status``). A
    field whose line is absent is ``None`` as an attribute and missing as a
    key: absent is never zero. Lines the table does not know are kept, in
    order, with their text as the value. Iterating gives the kernel names in
    file order.

    Instances are immutable; :meth:`replace` makes a changed copy. Create them
    with :func:`procstatus.parse_status`, which has already checked every value,
    so reading a value never raises.
    """

    __slots__ = ("_converted", "_raw")

    # Attribute names and types; everything else about a field is in _fields.FIELDS.
    name = _Field[Optional[str]]()
    umask = _Field[Optional[int]]()
    state = _Field[Optional[TaskState]]()
    sleep_avg = _Field[Optional[int]]()
    tgid = _Field[Optional[int]]()
    ngid = _Field[Optional[int]]()
    pid = _Field[Optional[int]]()
    ppid = _Field[Optional[int]]()
    tracer_pid = _Field[Optional[int]]()
    uid = _Field[Optional[Ids]]()
    gid = _Field[Optional[Ids]]()
    fd_size = _Field[Optional[int]]()
    groups = _Field[Optional[tuple[int, ...]]]()
    ns_tgid = _Field[Optional[tuple[int, ...]]]()
    ns_pid = _Field[Optional[tuple[int, ...]]]()
    ns_pgid = _Field[Optional[tuple[int, ...]]]()
    ns_sid = _Field[Optional[tuple[int, ...]]]()
    kthread = _Field[Optional[bool]]()
    peak_size = _Field[Optional[int]]()
    size = _Field[Optional[int]]()
    locked = _Field[Optional[int]]()
    pinned = _Field[Optional[int]]()
    peak_rss = _Field[Optional[int]]()
    rss = _Field[Optional[int]]()
    rss_anon = _Field[Optional[int]]()
    rss_file = _Field[Optional[int]]()
    rss_shmem = _Field[Optional[int]]()
    data = _Field[Optional[int]]()
    stack = _Field[Optional[int]]()
    exe = _Field[Optional[int]]()
    lib = _Field[Optional[int]]()
    page_tables = _Field[Optional[int]]()
    pmd_tables = _Field[Optional[int]]()
    swap = _Field[Optional[int]]()
    hugetlb = _Field[Optional[int]]()
    nommu_mem = _Field[Optional[int]]()
    nommu_slack = _Field[Optional[int]]()
    nommu_shared = _Field[Optional[int]]()
    core_dumping = _Field[Optional[bool]]()
    thp_enabled = _Field[Optional[bool]]()
    untag_mask = _Field[Optional[int]]()
    threads = _Field[Optional[int]]()
    sigq = _Field[Optional[SigQ]]()
    sig_pending = _Field[Optional[int]]()
    shared_pending = _Field[Optional[int]]()
    sig_blocked = _Field[Optional[int]]()
    sig_ignored = _Field[Optional[int]]()
    sig_caught = _Field[Optional[int]]()
    cap_inheritable = _Field[Optional[int]]()
    cap_permitted = _Field[Optional[int]]()
    cap_effective = _Field[Optional[int]]()
    cap_bounding = _Field[Optional[int]]()
    cap_ambient = _Field[Optional[int]]()
    no_new_privs = _Field[Optional[bool]]()
    seccomp = _Field[Optional[int]]()
    seccomp_filters = _Field[Optional[int]]()
    speculation_store_bypass = _Field[Optional[str]]()
    speculation_indirect_branch = _Field[Optional[str]]()
    cpus_allowed = _Field[Optional[frozenset[int]]]()
    cpus_allowed_list = _Field[Optional[frozenset[int]]]()
    mems_allowed = _Field[Optional[frozenset[int]]]()
    mems_allowed_list = _Field[Optional[frozenset[int]]]()
    voluntary_ctxt_switches = _Field[Optional[int]]()
    nonvoluntary_ctxt_switches = _Field[Optional[int]]()
    x86_thread_features = _Field[Optional[tuple[str, ...]]]()
    x86_thread_features_locked = _Field[Optional[tuple[str, ...]]]()

    def __init__(self, raw: Mapping[str, str]) -> None:
        """Wrap already validated raw values; use :func:`procstatus.parse_status` instead."""
        self._raw = raw
        self._converted: dict[str, Any] = {}

    # Mapping protocol, by kernel name.

    def __getitem__(self, key: str) -> Any:
        value = self._converted.get(key, _NOT_YET)
        return self._convert(key) if value is _NOT_YET else value

    def get(self, key: str, default: Any = None) -> Any:
        # Mapping.get would raise and catch a KeyError for every absent line,
        # and attributes read through here: this is the hot path of a read.
        value = self._converted.get(key, _NOT_YET)
        if value is not _NOT_YET:
            return value
        return self._convert(key) if key in self._raw else default

    def _convert(self, key: str) -> Any:
        text = self._raw[key]
        spec = FIELDS.get(key)
        value = text if spec is None else spec.kind.convert(text)
        self._converted[key] = value
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProcStatus):
            return NotImplemented
        return list(self._raw) == list(other._raw) and all(self[k] == other[k] for k in self._raw)

    __hash__ = None  # type: ignore[assignment]  # immutable, but unhashable like the dicts it resembles

    def __reduce__(self) -> tuple[type[ProcStatus], tuple[dict[str, str]]]:
        # Pickle the texts alone: the parser's fast path may hold them as a view
        # on the whole text and its compiled layout.
        return (ProcStatus, (dict(self._raw),))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{attribute}={getattr(self, attribute)!r}"
            for attribute in ("name", "pid", "state", "rss", "peak_rss")
            if BY_ATTRIBUTE[attribute].name in self._raw
        )
        return f"ProcStatus({shown}, ... {len(self._raw)} fields)"

    # Beyond the mapping.

    def raw(self, key: str) -> str:
        """The text of a line as printed, without the key, separator and surrounding blanks.

        ``Name`` keeps every blank of the name and the kernel's escapes.
        Raises KeyError when the line is absent.
        """
        return self._raw[key]

    @property
    def unknown(self) -> tuple[str, ...]:
        """Names of the lines the field table does not know, in file order."""
        return tuple(key for key in self._raw if key not in FIELDS)

    @property
    def memory(self) -> Optional[Memory]:
        """The memory lines in bytes, or None when there are none (kernel threads, zombies)."""
        values = {spec.attribute: self.get(spec.name) for spec in MEMORY_FIELDS}
        if all(value is None for value in values.values()):
            return None
        return Memory(**values)  # type: ignore[arg-type]

    def replace(self, **changes: Any) -> ProcStatus:
        """A copy with some fields changed, by attribute name: ``status.replace(pid=7)``.

        A value of ``None`` removes the line; a field that was absent is added
        at the end. The result is checked like any parsed text, so a value the
        kernel could not print raises :class:`~procstatus.StatusParseError`.
        """
        from ._format import format_fields  # noqa: PLC0415  (the formatter needs this module)
        from ._parse import parse_status  # noqa: PLC0415

        fields: dict[str, Any] = dict(self.items())
        for attribute, value in changes.items():
            spec = BY_ATTRIBUTE.get(attribute)
            if spec is None:
                raise TypeError(f"ProcStatus has no field attribute {attribute!r}")
            if value is None:
                fields.pop(spec.name, None)
            else:
                fields[spec.name] = value
                _check_renders(spec.name, value, list(fields).index(spec.name) + 1)
                if spec.kind is KB and value % 1024:
                    raise ValueError(
                        f"{attribute} is printed in kB: {value} is not a multiple of 1024"
                    )
        return parse_status(format_fields(fields))


#: Kinds whose value is a collection: a str there would be taken apart character
#: by character (x86_thread_features="abc" would become ("a", "b", "c")).
_COLLECTION_TYPES = ("tuple", "frozenset", "Ids", "SigQ")


def _check_renders(key: str, value: Any, line: int) -> None:
    # A value of the wrong type (a float for a kB field, a negative CPU number, a
    # number for the name) cannot even be written; say so the way a bad line in
    # a text is reported.
    kind = FIELDS[key].kind
    try:
        if isinstance(value, str) and kind.python_type.startswith(_COLLECTION_TYPES):
            raise TypeError(f"a str is not a {kind.python_type}")
        kind.render(value)
    except (TypeError, ValueError, OverflowError, AttributeError) as error:
        raise StatusParseError(
            f"cannot write {value!r} as {kind.expected} ({error})",
            line=line,
            field=key,
            text=f"{key}:\t{value!r}",
        ) from None
