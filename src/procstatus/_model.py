"""The parsed status: :class:`ProcStatus`, and its memory view :class:`Memory`.

# Strategy:
A ProcStatus holds the text of each line, already checked, and turns a value
into its Python type when it is first read, then keeps it. Every way in checks
each line with its kind's one check (``Kind._check`` in ``_kinds.py``):

- the parser's exact path (``_parse.py``) hands over the texts of its lines;
- the parser's fast path (``_fastpath.py``) hands over the whole text and the
  template that matched it, which proved every line valid in one match: the
  texts are cut out of it all at once when the first value is read (a caller
  often reads a few fields, or none), and ``memory`` takes the memory block in
  one more match;
- :meth:`ProcStatus.from_fields` and :meth:`ProcStatus.replace` take typed
  values, which each kind writes as the kernel would and checks like a parsed
  line (``_kinds.write_checked``): no text of a whole status is made or parsed.

Everything that wants every value (equality, ``items()``, the JSON form)
converts them in one pass. Nothing here imports the parser: the fast path's
templates are known only through the small ``_Layout`` protocol.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, Mapping, ValuesView
from typing import (
    TYPE_CHECKING,
    Any,
    Generic,
    Literal,
    NamedTuple,
    Optional,
    Protocol,
    TypeVar,
    Union,
    overload,
)

from ._errors import FieldTypeError, FieldValueError
from ._fields import BY_ATTRIBUTE, FIELDS, MEMORY_FIELDS
from ._kinds import TEXT, Ids, SigQ, TaskState, write_checked

__all__ = ["Memory", "ProcStatus"]

T = TypeVar("T")
_T = TypeVar("_T")

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


class _Layout(Protocol):
    """What the fast path knows of a text it matched (``_fastpath.Template``)."""

    @property
    def keys(self) -> tuple[str, ...]:
        """The kernel names of the lines, in order."""

    @property
    def index(self) -> Mapping[str, int]:
        """The position of each name in ``keys``."""

    def texts(self, text: str) -> list[str]:
        """The text of every line, in order, cut out of ``text`` in one pass."""

    def memory(self, text: str) -> Optional[Memory]:
        """The memory lines of ``text``, from one match."""


#: The converter of each known line; unknown lines are text.
_CONVERT = {name: spec.kind._convert for name, spec in FIELDS.items()}
_MEMORY_KEYS = tuple(spec.name for spec in MEMORY_FIELDS)


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
        # The hot path of every read: one dict lookup once the value is converted.
        value = status._values.get(self.key, _NOT_YET)
        return status._read(self.key) if value is _NOT_YET else value


# BEGIN GENERATED KEYS (scripts/field_types.py writes it from procstatus.FIELDS)
if TYPE_CHECKING:
    #: Kernel names whose value is ``str``.
    _StrKey = Literal[
        "Name",
        "Speculation_Store_Bypass",
        "SpeculationIndirectBranch",
        "StaBrk",
        "Brk",
        "StaStk",
        "ExecLim",
        "task",
        "User PSW ",
        "User GPRS",
        "User ACRS",
    ]
    #: Kernel names whose value is ``int``.
    _IntKey = Literal[
        "Umask",
        "SleepAVG",
        "Tgid",
        "Ngid",
        "Pid",
        "PPid",
        "TracerPid",
        "FDSize",
        "VmPeak",
        "VmSize",
        "VmLck",
        "VmPin",
        "VmHWM",
        "VmRSS",
        "RssAnon",
        "RssFile",
        "RssShmem",
        "VmData",
        "VmStk",
        "VmExe",
        "VmLib",
        "VmPTE",
        "VmPMD",
        "VmSwap",
        "HugetlbPages",
        "Mem",
        "Slack",
        "Shared",
        "untag_mask",
        "Threads",
        "SigPnd",
        "ShdPnd",
        "SigBlk",
        "SigIgn",
        "SigCgt",
        "CapInh",
        "CapPrm",
        "CapEff",
        "CapBnd",
        "CapAmb",
        "Seccomp",
        "Seccomp_filters",
        "voluntary_ctxt_switches",
        "nonvoluntary_ctxt_switches",
    ]
    #: Kernel names whose value is ``TaskState``.
    _TaskStateKey = Literal["State"]
    #: Kernel names whose value is ``Ids``.
    _IdsKey = Literal[
        "Uid",
        "Gid",
    ]
    #: Kernel names whose value is ``tuple[int, ...]``.
    _IntTupleKey = Literal[
        "Groups",
        "NStgid",
        "NSpid",
        "NSpgid",
        "NSsid",
    ]
    #: Kernel names whose value is ``bool``.
    _BoolKey = Literal[
        "Kthread",
        "CoreDumping",
        "THP_enabled",
        "NoNewPrivs",
    ]
    #: Kernel names whose value is ``SigQ``.
    _SigQKey = Literal["SigQ"]
    #: Kernel names whose value is ``frozenset[int]``.
    _IntSetKey = Literal[
        "Cpus_allowed",
        "Cpus_allowed_list",
        "Mems_allowed",
        "Mems_allowed_list",
    ]
    #: Kernel names whose value is ``tuple[str, ...]``.
    _StrTupleKey = Literal[
        "x86_Thread_features",
        "x86_Thread_features_locked",
    ]
# END GENERATED KEYS


class ProcStatus(Mapping[str, Any]):
    """One parsed /proc/PID/status text.

    Read it by attribute (``status.peak_rss``) or by the kernel's name
    (``status["VmHWM"]``, ``status.get("VmHWM")``, ``"VmHWM" in status``). A
    field whose line is absent is ``None`` as an attribute and missing as a
    key: absent is never zero. Lines the table does not know are kept, in
    order, with their text as the value. Iterating gives the kernel names in
    file order.

    Instances are immutable and every value in them was checked when they were
    made, so reading a value never raises. Make them with
    :func:`procstatus.parse_status` (from a text) or :meth:`from_fields` (from
    typed values); :meth:`replace` makes a changed copy.
    """

    __slots__ = ("_index", "_keys", "_layout", "_text", "_texts", "_values")

    _keys: tuple[str, ...]
    #: The position of each key in ``_keys`` (and in ``_texts``).
    _index: Mapping[str, int]
    #: The text of each line, in order; on the fast path None until first needed.
    _texts: Optional[list[str]]
    #: The whole text and the template that matched it, on the fast path.
    _text: str
    _layout: Optional[_Layout]
    #: Converted values; None for fields of the table that are absent.
    _values: dict[str, Any]

    def __init__(self, *args: object, **kwargs: object) -> None:
        # The unchecked constructors are private; the public ones check every value.
        raise TypeError(
            "ProcStatus is made by procstatus.parse_status() or ProcStatus.from_fields()"
        )

    @classmethod
    def from_fields(cls, fields: Mapping[str, object]) -> ProcStatus:
        """A status with these lines, in this order, from typed values by kernel name.

        Each value must have the type the field reads as (docs/fields.md): an
        ``int`` in bytes for memory (a multiple of 1024: the kernel prints kB), a
        ``bool`` for a flag, an :class:`Ids` or a tuple of four ids for ``Uid``,
        a ``frozenset`` for CPU sets, a ``str`` for unknown lines... Nothing is
        converted, and each value is checked as the parser checks a line, so
        ``from_fields(status) == status`` and
        ``parse_status(format_status(s)) == s`` for every result. ``None`` leaves
        a line out.

        Raises :class:`~procstatus.FieldTypeError` (a TypeError) for a value of
        the wrong type and :class:`~procstatus.FieldValueError` (a ValueError)
        for a value the kernel could not print, naming the field.

        >>> ProcStatus.from_fields({"Name": "sh", "VmRSS": 8192}).rss
        8192
        """
        if not isinstance(fields, Mapping):
            raise TypeError(f"fields must be a mapping, not {type(fields).__name__}")
        texts: dict[str, str] = {}
        for given, value in fields.items():
            if not isinstance(given, str):
                raise FieldTypeError(_shown_key(given), "a field name is a str")
            key = "".join((given,))  # a plain str: none of a subclass's methods runs
            if not key or ":" in key or "\n" in key:
                raise FieldValueError(key, "a field name is not empty and has no ':' or newline")
            if value is not None:
                texts[key] = _write(key, value)
        return cls._from_texts(texts)

    @classmethod
    def _from_lines(
        cls, keys: tuple[str, ...], index: Mapping[str, int], texts: list[str]
    ) -> ProcStatus:
        """A status of checked lines: their keys, positions and texts (the exact path)."""
        status = object.__new__(cls)
        status._keys = keys
        status._index = index
        status._texts = texts
        status._text = ""
        status._layout = None
        status._values = {}
        return status

    @classmethod
    def _from_texts(cls, texts: dict[str, str]) -> ProcStatus:
        """A status of checked texts by key (from_fields, replace, unpickling)."""
        keys = tuple(texts)
        return cls._from_lines(keys, dict(zip(keys, range(len(keys)))), list(texts.values()))

    @classmethod
    def _from_match(cls, text: str, layout: _Layout) -> ProcStatus:
        """A status of a text that a fast-path template matched, and so checked."""
        status = object.__new__(cls)
        status._keys = layout.keys
        status._index = layout.index
        status._texts = None
        status._text = text
        status._layout = layout
        status._values = {}
        return status

    # Values.

    def _all_texts(self) -> list[str]:
        texts = self._texts
        if texts is None:
            layout = self._layout
            if layout is None:  # pragma: no cover  (set together with _texts = None)
                raise AssertionError("a status without its texts always has its template")
            texts = self._texts = layout.texts(self._text)
        return texts

    def _read(self, key: str) -> Any:
        """Convert one value (None when the line is absent) and keep it."""
        position = self._index.get(key)
        if position is not None:
            value = _CONVERT.get(key, str)(self._all_texts()[position])
            self._values[key] = value
            return value
        if key in FIELDS:  # only the table's names: reading garbage keys keeps nothing
            self._values[key] = None
        return None

    def _all_values(self) -> dict[str, Any]:
        """Every value converted, in one pass; the result also holds absent fields as None."""
        values = self._values
        for key, text in zip(self._keys, self._all_texts()):
            if values.get(key) is None:
                values[key] = _CONVERT.get(key, str)(text)
        return values

    # Mapping protocol, by kernel name.

    # BEGIN GENERATED FIELDS (scripts/field_types.py writes it from procstatus.FIELDS)
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

    @overload
    def __getitem__(self, key: _StrKey) -> str: ...

    @overload
    def __getitem__(self, key: _IntKey) -> int: ...

    @overload
    def __getitem__(self, key: _TaskStateKey) -> TaskState: ...

    @overload
    def __getitem__(self, key: _IdsKey) -> Ids: ...

    @overload
    def __getitem__(self, key: _IntTupleKey) -> tuple[int, ...]: ...

    @overload
    def __getitem__(self, key: _BoolKey) -> bool: ...

    @overload
    def __getitem__(self, key: _SigQKey) -> SigQ: ...

    @overload
    def __getitem__(self, key: _IntSetKey) -> frozenset[int]: ...

    @overload
    def __getitem__(self, key: _StrTupleKey) -> tuple[str, ...]: ...

    @overload
    def __getitem__(self, key: str) -> Any: ...

    # END GENERATED FIELDS

    def __getitem__(self, key: str) -> Any:
        value = self._values.get(key)
        if value is None:
            if key not in self._index:
                raise KeyError(key)
            value = self._read(key)
        return value

    # BEGIN GENERATED GET (scripts/field_types.py writes it from procstatus.FIELDS)
    # Narrower than Mapping.get by key, which mypy cannot match item by item.
    @overload  # type: ignore[override]
    def get(self, key: _StrKey, default: None = None) -> Optional[str]: ...

    @overload
    def get(self, key: _StrKey, default: _T) -> Union[str, _T]: ...

    @overload
    def get(self, key: _IntKey, default: None = None) -> Optional[int]: ...

    @overload
    def get(self, key: _IntKey, default: _T) -> Union[int, _T]: ...

    @overload
    def get(self, key: _TaskStateKey, default: None = None) -> Optional[TaskState]: ...

    @overload
    def get(self, key: _TaskStateKey, default: _T) -> Union[TaskState, _T]: ...

    @overload
    def get(self, key: _IdsKey, default: None = None) -> Optional[Ids]: ...

    @overload
    def get(self, key: _IdsKey, default: _T) -> Union[Ids, _T]: ...

    @overload
    def get(self, key: _IntTupleKey, default: None = None) -> Optional[tuple[int, ...]]: ...

    @overload
    def get(self, key: _IntTupleKey, default: _T) -> Union[tuple[int, ...], _T]: ...

    @overload
    def get(self, key: _BoolKey, default: None = None) -> Optional[bool]: ...

    @overload
    def get(self, key: _BoolKey, default: _T) -> Union[bool, _T]: ...

    @overload
    def get(self, key: _SigQKey, default: None = None) -> Optional[SigQ]: ...

    @overload
    def get(self, key: _SigQKey, default: _T) -> Union[SigQ, _T]: ...

    @overload
    def get(self, key: _IntSetKey, default: None = None) -> Optional[frozenset[int]]: ...

    @overload
    def get(self, key: _IntSetKey, default: _T) -> Union[frozenset[int], _T]: ...

    @overload
    def get(self, key: _StrTupleKey, default: None = None) -> Optional[tuple[str, ...]]: ...

    @overload
    def get(self, key: _StrTupleKey, default: _T) -> Union[tuple[str, ...], _T]: ...

    @overload
    def get(self, key: str, default: Any = None) -> Any: ...

    # END GENERATED GET

    def get(self, key: str, default: Any = None) -> Any:
        # Mapping.get would raise and catch a KeyError for every absent line.
        value = self._values.get(key, _NOT_YET)
        if value is _NOT_YET:
            value = self._read(key)
        return default if value is None else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def items(self) -> ItemsView[str, Any]:
        self._all_values()  # every value at once: cheaper than one at a time
        return ItemsView(self)

    def values(self) -> ValuesView[Any]:
        self._all_values()
        return ValuesView(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProcStatus):
            return NotImplemented
        if self._keys != other._keys:
            return False
        mine, theirs = self._all_values(), other._all_values()
        return all(mine[key] == theirs[key] for key in self._keys)

    __hash__ = None  # type: ignore[assignment]  # immutable, but unhashable like the dicts it resembles

    def __reduce__(self) -> tuple[Any, tuple[tuple[tuple[str, str], ...]]]:
        # The texts alone; they are checked again when unpickled.
        return (_restore, (tuple(zip(self._keys, self._all_texts())),))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{attribute}={getattr(self, attribute)!r}"
            for attribute in ("name", "pid", "state", "rss", "peak_rss")
            if BY_ATTRIBUTE[attribute].name in self._index
        )
        return f"ProcStatus({shown}, ... {len(self._keys)} fields)"

    # Beyond the mapping.

    def raw(self, key: str) -> str:
        """The text of a line as printed, without the key, separator and surrounding blanks.

        ``Name`` keeps every blank of the name and the kernel's escapes.
        Raises KeyError when the line is absent.
        """
        return self._all_texts()[self._index[key]]

    @property
    def unknown(self) -> tuple[str, ...]:
        """Names of the lines the field table does not know, in file order."""
        return tuple(key for key in self._keys if key not in FIELDS)

    @property
    def memory(self) -> Optional[Memory]:
        """The memory lines in bytes, or None when there are none (kernel threads, zombies)."""
        if self._layout is not None:
            return self._layout.memory(self._text)
        values = [self.get(key) for key in _MEMORY_KEYS]
        if values.count(None) == len(values):
            return None
        return Memory._make(values)

    def replace(self, **changes: Any) -> ProcStatus:
        """A copy with some fields changed, by attribute name: ``status.replace(pid=7)``.

        A value of ``None`` removes the line; a field that was absent is added
        at the end. Each value is checked like those of :meth:`from_fields`, with
        the same errors: :class:`~procstatus.FieldTypeError` for a wrong type or
        a name that is no field attribute, :class:`~procstatus.FieldValueError`
        for a value the kernel could not print. Nothing else changes.
        """
        texts = dict(zip(self._keys, self._all_texts()))
        values = dict(self._values)  # what was converted stays valid for the other lines
        for given, value in changes.items():
            attribute = "".join((given,))  # a plain str: none of a subclass's methods runs
            spec = BY_ATTRIBUTE.get(attribute)
            if spec is None:
                raise FieldTypeError(attribute, "ProcStatus has no field of this attribute name")
            values.pop(spec.name, None)
            if value is None:
                texts.pop(spec.name, None)
            else:
                texts[spec.name] = _write(spec.name, value)
        status = ProcStatus._from_texts(texts)
        status._values = values
        return status


def require_status(value: object, function: str) -> None:
    """TypeError unless ``value`` is a ProcStatus: a mapping of the same keys is no
    status (its values were never checked), and anything else has no lines."""
    if not isinstance(value, ProcStatus):
        raise TypeError(f"{function}() takes a ProcStatus, not {type(value).__name__}")


def _shown_key(key: object) -> str:
    """A key that is no str, for an error message: repr() of builtin values only
    (a caller's own class may do anything in its __repr__)."""
    if type(key) in (int, float, bytes, bool, type(None)):
        return repr(key)
    return f"<{type(key).__name__} object>"


def _write(key: str, value: object) -> str:
    """The checked text of one line for a typed value, or the field's error."""
    spec = FIELDS.get(key)
    try:
        return write_checked(TEXT if spec is None else spec.kind, value)
    except TypeError as error:
        raise FieldTypeError(key, str(error)) from None
    except ValueError as error:
        raise FieldValueError(key, str(error)) from None


def _restore(items: tuple[tuple[str, str], ...]) -> ProcStatus:
    """Unpickle: the texts of the lines, checked again as the parser checks them."""
    texts: dict[str, str] = {}
    for key, text in items:
        spec = FIELDS.get(key)
        reason = (TEXT if spec is None else spec.kind)._check(text)
        if reason is not None:
            raise FieldValueError(key, reason)
        texts[key] = text
    return ProcStatus._from_texts(texts)
