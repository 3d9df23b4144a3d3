"""Hypothesis strategies that write status texts the way a kernel does.

A generated text comes with the values it was written from (``Generated.expected``,
by attribute name), so a test compares what the parser read with what the
"kernel" meant, never with the library's own converters. Memory follows
task_mem() in fs/proc/task_mmu.c: page counts shifted to kB (4 KiB pages),
VmPeak = max(total_vm, hiwater_vm), VmHWM = max(rss, hiwater_rss) and, since 4.5,
rss = anon + file + shmem. Line formats follow fs/proc/array.c.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple, Optional, cast

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from helpers_files import CORPUS_DIR, SHARED_DIR  # noqa: F401 - SHARED_DIR: for old importers
from procstatus import FIELDS, ROLLUP_FIELDS, Ids, SigQ, TaskState

# Moderate example counts: the whole suite runs on every interpreter of a slow machine.
#: For properties of generated texts that each example checks thoroughly.
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: For damaged texts, where more examples reach more ways to break a line.
SOME = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Version = tuple[int, ...]

PAGE_SHIFT_KB = 2  # 4 KiB pages: pages << 2 is kB, as task_mem() prints them


def version(text: str) -> Version:
    """'2.6.15' -> (2, 6, 15): versions compare as tuples."""
    return tuple(int(part) for part in text.split("."))


#: Every release where the table says a line came or went, plus the oldest one.
VERSIONS: tuple[Version, ...] = tuple(
    sorted(
        {(2, 6, 0), (6, 18)}
        | {version(spec.since) for spec in FIELDS.values() if spec.since}
        | {version(spec.removed) for spec in FIELDS.values() if spec.removed}
    )
)

#: Lines a mainline MMU kernel may print, by the table; the rest are nommu, s390 or vendor lines.
_NOT_GENERATED = {"Mem", "Slack", "Shared", "task", "User PSW ", "User GPRS", "User ACRS"}

#: Printed only with some configuration (CONFIG_PID_NS, CONFIG_SECCOMP, ...), or
#: only on some architectures or backports: each may be on or off.
OPTIONAL = frozenset(
    {
        "NStgid",
        "NSpid",
        "NSpgid",
        "NSsid",
        "Seccomp",
        "Seccomp_filters",
        "HugetlbPages",
        "Cpus_allowed",
        "Cpus_allowed_list",
        "Mems_allowed",
        "Mems_allowed_list",
        "x86_Thread_features",
        "x86_Thread_features_locked",
    }
)

#: Lines only a task with an mm prints: absent for kernel threads and zombies.
MM_LINES = frozenset(
    name for name, spec in FIELDS.items() if spec.printed.startswith("only when the task has an mm")
)


def printed_by(release: Version) -> tuple[str, ...]:
    """The mainline lines a kernel of this release can print, in print order."""
    names = []
    for name, spec in FIELDS.items():
        if not spec.mainline or name in _NOT_GENERATED:
            continue
        if spec.since is not None and release < version(spec.since):
            continue
        if spec.removed is not None and release >= version(spec.removed):
            continue
        names.append(name)
    return tuple(names)


class Generated(NamedTuple):
    """A status text as a kernel would write it, and the values it was written from."""

    release: Version
    task: str  # "user", "kernel thread" or "zombie"
    lines: tuple[tuple[str, bytes], ...]  # (kernel name, whole line with its newline)
    expected: dict[str, Any]  # attribute name -> the value the kernel printed

    @property
    def text(self) -> bytes:
        return b"".join(line for _, line in self.lines)

    def with_name_line(self, line: bytes) -> bytes:
        """The same text with another Name line."""
        return b"".join(line if key == "Name" else whole for key, whole in self.lines)


def kernel_escape(name: bytes) -> bytes:
    """What the kernel prints for a comm: only backslash and newline are escaped."""
    return name.replace(b"\\", b"\\\\").replace(b"\n", b"\\n")


def name_line(name: bytes) -> bytes:
    return b"Name:\t" + kernel_escape(name) + b"\n"


def hex_words(numbers: frozenset[int], bits: int) -> str:
    """'%*pb' over a bitmap of ``bits`` bits: zero-padded hex, a comma every 8 digits."""
    digits = format(sum(1 << n for n in numbers), f"0{-(-bits // 4)}x")
    words: list[str] = []
    while digits:
        words.insert(0, digits[-8:])
        digits = digits[:-8]
    return ",".join(words)


def range_list(numbers: frozenset[int]) -> str:
    """'%*pbl': ascending numbers, runs written first-last."""
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and runs[-1][1] == number - 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


names = st.binary(max_size=64)
"""Any comm at all (the kernel allows 63 bytes for kernel threads; we go one further)."""

_pages = st.integers(min_value=0, max_value=2**34)
_small = st.integers(min_value=0, max_value=2**22)
_u32 = st.integers(min_value=0, max_value=2**32 - 1)
_pid = st.integers(min_value=0, max_value=4194304)
_mask64 = st.integers(min_value=0, max_value=2**64 - 1)
_STATES = (
    ("R", "running"),
    ("S", "sleeping"),
    ("D", "disk sleep"),
    ("T", "stopped"),
    ("t", "tracing stop"),
    ("Z", "zombie"),
    ("X", "dead"),
    ("I", "idle"),
    ("P", "parked"),
    ("W", "paging"),
)
_SPECULATION = (
    "unknown",
    "not vulnerable",
    "thread vulnerable",
    "thread force mitigated",
    "thread mitigated",
    "globally mitigated",
    "vulnerable",
)
_INDIRECT = ("unknown", "conditional enabled", "always enabled", "conditional disabled")


@st.composite
def kernel_statuses(draw: st.DrawFn, name: Optional[st.SearchStrategy[bytes]] = None) -> Generated:
    """A whole status text as the kernel of a drawn release writes it."""
    release = draw(st.sampled_from(VERSIONS))
    task = draw(st.sampled_from(("user", "user", "user", "kernel thread", "zombie")))
    optional_on = draw(st.frozensets(st.sampled_from(sorted(OPTIONAL))))
    wanted = [
        key
        for key in printed_by(release)
        if (key not in OPTIONAL or key in optional_on)
        and not (task != "user" and key in MM_LINES)
        and not (task == "zombie" and key == "Umask")
    ]
    values: dict[str, tuple[str, Any]] = {}  # key -> (text after "Key:\t", expected value)

    def put(key: str, text: str, value: Any) -> None:
        values[key] = (text, value)

    comm = draw(name if name is not None else st.binary(min_size=1, max_size=15))
    put("Name", "", comm)
    if task == "zombie":
        state = ("Z", "zombie")
    else:
        state = draw(st.sampled_from([s for s in _STATES if s[0] not in "ZX"]))
    put("State", f"{state[0]} ({state[1]})", TaskState(letter=state[0], meaning=state[1]))
    umask = draw(st.integers(min_value=0, max_value=0o777))
    put("Umask", f"{umask:04o}", umask)  # "%#04o" of a mask below 0o1000: 0022
    sleep = draw(st.integers(min_value=0, max_value=101))
    put("SleepAVG", f"{sleep}%", sleep)
    for key in ("Tgid", "Ngid", "Pid", "PPid", "TracerPid", "Threads"):
        number = draw(_pid)
        put(key, str(number), number)
    fd_size = draw(st.sampled_from([0, 64, 256, 2048, 65536]))
    put("FDSize", str(fd_size), fd_size)

    signed_ids = release < (4, 9)  # "%d" until 4.8: ids >= 2**31 printed negative
    for key in ("Uid", "Gid"):
        ids = draw(st.tuples(_u32, _u32, _u32, _u32))
        shown = [n - 2**32 if signed_ids and n >= 2**31 else n for n in ids]
        put(key, "\t".join(map(str, shown)), Ids(*ids))
    groups = draw(st.lists(_u32, max_size=40).map(tuple))
    shown_groups = [g - 2**32 if signed_ids and g >= 2**31 else g for g in groups]
    if release < (4, 9):
        groups_text = "".join(f"{g} " for g in shown_groups)  # each group followed by a space
    else:
        groups_text = " ".join(map(str, shown_groups)) + " "  # plus one trailing space, always
    put("Groups", groups_text, groups)
    levels = draw(st.integers(min_value=1, max_value=4))
    for key in ("NStgid", "NSpid", "NSpgid", "NSsid"):
        ids_by_level = tuple(draw(st.lists(_pid, min_size=levels, max_size=levels)))
        put(key, "\t".join(map(str, ids_by_level)), ids_by_level)
    kthread = task == "kernel thread"
    put("Kthread", "1" if kthread else "0", kthread)

    # task_mem(): counters in pages, read once, shifted to kB.
    total_vm, hiwater_vm, hiwater_rss = draw(_pages), draw(_pages), draw(_pages)
    if release >= (4, 5):
        anon, file, shmem = draw(_pages), draw(_pages), draw(_pages)
        rss = anon + file + shmem
        for key, pages in (("RssAnon", anon), ("RssFile", file), ("RssShmem", shmem)):
            put(key, f"{pages << PAGE_SHIFT_KB:8d} kB", pages << PAGE_SHIFT_KB << 10)
    else:
        rss = draw(_pages)  # get_mm_rss(): one count before the split
    peak_vm, peak_rss = max(total_vm, hiwater_vm), max(rss, hiwater_rss)
    for key, pages in (("VmPeak", peak_vm), ("VmSize", total_vm), ("VmHWM", peak_rss)):
        put(key, f"{pages << PAGE_SHIFT_KB:8d} kB", pages << PAGE_SHIFT_KB << 10)
    put("VmRSS", f"{rss << PAGE_SHIFT_KB:8d} kB", rss << PAGE_SHIFT_KB << 10)
    for key in ("VmLck", "VmPin", "VmData", "VmStk", "VmExe", "VmLib", "VmSwap"):
        pages = draw(_pages)
        put(key, f"{pages << PAGE_SHIFT_KB:8d} kB", pages << PAGE_SHIFT_KB << 10)
    for key in ("VmPTE", "VmPMD", "HugetlbPages"):  # printed in kB directly
        kb = draw(_small)
        put(key, f"{kb:8d} kB", kb * 1024)
    for key in ("CoreDumping", "THP_enabled", "NoNewPrivs"):
        flag = draw(st.booleans())
        put(key, "1" if flag else "0", flag)
    untag = draw(st.sampled_from([2**64 - 1, 2**56 - 1, 0x7E_FFFF_FFFF_FFFF]))
    put("untag_mask", hex(untag), untag)

    queued, limit = draw(_u32), draw(st.one_of(_u32, st.just(2**64 - 1)))
    put("SigQ", f"{queued}/{limit}", SigQ(queued, limit))
    for key in ("SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt"):
        mask = draw(_mask64)
        put(key, f"{mask:016x}", mask)  # render_sigset_t(): _NSIG / 4 digits
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        mask = draw(st.integers(min_value=0, max_value=2**41 - 1))
        put(key, f"{mask:016x}", mask)
    seccomp = draw(st.integers(min_value=0, max_value=2))
    put("Seccomp", str(seccomp), seccomp)
    filters = draw(st.integers(min_value=0, max_value=100))
    put("Seccomp_filters", str(filters), filters)
    speculation = draw(st.sampled_from(_SPECULATION))
    put("Speculation_Store_Bypass", speculation, speculation)
    indirect = draw(st.sampled_from(_INDIRECT))
    put("SpeculationIndirectBranch", indirect, indirect)

    for prefix, sizes in (("Cpus", (2, 8, 20, 64, 96, 192)), ("Mems", (64, 1024))):
        bits = draw(st.sampled_from(sizes))
        allowed = draw(st.frozensets(st.integers(min_value=0, max_value=bits - 1), max_size=12))
        put(f"{prefix}_allowed", hex_words(allowed, bits), allowed)
        put(f"{prefix}_allowed_list", range_list(allowed), allowed)
    for key in ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"):
        count = draw(st.integers(min_value=0, max_value=2**64 - 1))
        put(key, str(count), count)
    for key in ("x86_Thread_features", "x86_Thread_features_locked"):
        words = tuple(draw(st.lists(st.sampled_from(["shstk", "wrss"]), unique=True)))
        put(key, "".join(f"{word} " for word in words), words)  # "%s " per feature

    lines = []
    expected: dict[str, Any] = {}
    for key in wanted:
        text, value = values[key]
        attribute = FIELDS[key].attribute
        assert attribute is not None
        if key == "Name":
            lines.append((key, name_line(comm)))
            expected[attribute] = comm.decode("utf-8", "surrogateescape")
        else:
            lines.append((key, f"{key}:\t{text}\n".encode()))
            expected[attribute] = value
    return Generated(release=release, task=task, lines=tuple(lines), expected=expected)


# Mutations of real (or generated) texts, for the "never anything but
# StatusParseError" property: edits a copy or a careless paste could make.


@st.composite
def mutated(draw: st.DrawFn, texts: st.SearchStrategy[bytes]) -> bytes:
    """A text with a few characters inserted, deleted or replaced, or lines swapped or doubled."""
    text = draw(texts)
    pieces = st.one_of(
        st.binary(min_size=1, max_size=4),
        st.sampled_from([b":", b"\n", b"\t", b" ", b"\r", b"\\", b"kB", b"0", b"-", b",", b"\xff"]),
        st.text(max_size=3).map(lambda t: t.encode("utf-8", "surrogatepass")),
    )
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        how = draw(st.sampled_from(["insert", "delete", "replace", "swap", "duplicate"]))
        at = draw(st.integers(min_value=0, max_value=len(text)))
        if how == "insert":
            text = text[:at] + draw(pieces) + text[at:]
        elif how == "delete":
            text = text[:at] + text[at + draw(st.integers(min_value=1, max_value=8)) :]
        elif how == "replace":
            piece = draw(pieces)
            text = text[:at] + piece + text[at + len(piece) :]
        else:
            first, second = draw(st.integers(0, 80)), draw(st.integers(0, 80))
            text = _line_edit(text, first, second, how)
    return text


def _line_edit(text: bytes, first: int, second: int, how: str) -> bytes:
    lines = text.split(b"\n")
    a, b = first % len(lines), second % len(lines)
    if how == "swap":
        lines[a], lines[b] = lines[b], lines[a]
    else:
        lines.insert(b, lines[a])
    return b"\n".join(lines)


def corpus_texts() -> list[bytes]:
    """The bytes of every real capture, or nothing when the corpus is not beside the repo."""
    if not CORPUS_DIR.is_dir():
        return []
    return [path.read_bytes() for path in sorted(CORPUS_DIR.glob("*.txt"))]


#: The real captures' bytes, read once for every test module (empty without the corpus).
CORPUS: list[bytes] = corpus_texts()

#: Texts to damage: the real captures when they are beside the repo, else generated ones.
DAMAGE_BASES: st.SearchStrategy[bytes] = (
    st.sampled_from(CORPUS) if CORPUS else kernel_statuses().map(lambda made: made.text)
)


# Values of every type, for the constructors that take typed values
# (ProcStatus.from_fields, replace): each must be taken exactly or refused with
# FieldTypeError or FieldValueError.

_numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=0, max_value=100_000),
    st.sampled_from([0, 1, 1024, 2**32 - 1, 2**32, 2**64 - 1, 2**64, 2**256, -1, 10**20]),
    st.integers(min_value=0, max_value=2**64).map(lambda number: number * 1024),
)
_texts = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("\n\t :\\()"))
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    _numbers,
    st.floats(allow_nan=False),
    _texts,
    st.binary(max_size=8),
    st.builds(TaskState, _texts, _texts),
    st.builds(TaskState, st.sampled_from("RSDTtZXIPW"), st.sampled_from(["running", "x)", ""])),
)

#: Any value at all that a field might be given: scalars, and collections of them.
any_values: st.SearchStrategy[object] = st.one_of(
    _scalars,
    st.tuples(_numbers, _numbers),
    st.tuples(_numbers, _numbers, _numbers, _numbers),
    st.builds(Ids, _numbers, _numbers, _numbers, _numbers),
    st.builds(SigQ, _numbers, _numbers),
    st.lists(_scalars, max_size=5).map(tuple),
    st.lists(_numbers, max_size=5).map(tuple),
    st.lists(_texts, max_size=4).map(tuple),
    st.lists(_numbers, max_size=5),
    st.frozensets(_numbers, max_size=5),
    st.sets(st.integers(min_value=-5, max_value=40_000), max_size=5),
    st.dictionaries(_texts, _numbers, max_size=2),
)


# Values of the caller's own subclasses of int, str, tuple, set and frozenset,
# whose every method raises while armed: the constructors must read them through
# the builtin types' own methods and compare only plain values, so none of the
# caller's code runs (an __eq__ that raises used to escape from replace()).


class Hostile:
    """While ``Hostile.armed`` is true, every method of the hostile classes raises."""

    armed = False


#: Methods left alone: without them no object can be made, typed or looked at.
_NEEDED = frozenset(
    {
        "__class__",
        "__delattr__",
        "__dir__",
        "__getattribute__",
        "__getnewargs__",
        "__init__",
        "__init_subclass__",
        "__new__",
        "__reduce__",
        "__reduce_ex__",
        "__setattr__",
        "__sizeof__",
        "__subclasshook__",
    }
)


def _guard(base: type, name: str) -> Any:
    method = getattr(base, name)

    def guarded(self: object, *args: object, **kwargs: object) -> object:
        if Hostile.armed:
            raise RuntimeError(f"the caller's {type(self).__name__}.{name} was called")
        return method(self, *args, **kwargs)

    return guarded


def _hostile(base: type) -> type:
    names = [name for name in dir(base) if name not in _NEEDED and callable(getattr(base, name))]
    namespace = {name: _guard(base, name) for name in names}
    return type(f"Hostile{base.__name__.capitalize()}", (base,), namespace)


HostileInt = _hostile(int)
HostileStr = _hostile(str)
HostileTuple = _hostile(tuple)
HostileSet = _hostile(set)
HostileFrozenset = _hostile(frozenset)


def hostile_copy(value: object) -> object:
    """``value`` with every int, str, tuple and set in it made of the hostile classes."""
    if isinstance(value, bool) or value is None:
        return value  # bool cannot be subclassed
    if isinstance(value, int):
        return HostileInt(value)
    if isinstance(value, str):
        return HostileStr(value)
    if isinstance(value, TaskState):
        return TaskState(
            cast(str, hostile_copy(value.letter)), cast(str, hostile_copy(value.meaning))
        )
    if isinstance(value, tuple):
        return HostileTuple(map(hostile_copy, value))
    if isinstance(value, frozenset):
        return HostileFrozenset(map(hostile_copy, value))
    if isinstance(value, set):
        return HostileSet(map(hostile_copy, value))
    return value


# smaps_rollup texts (tests/test_rollup_properties.py, tests/test_rollup_corpus.py).

#: Real rollup texts: captured here by scripts/capture_rollups.py and quoted from reports.
ROLLUP_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "rollup"


def rollup_fixtures() -> list[Path]:
    """Every real rollup text (``*.rollup``) in tests/fixtures/rollup, sorted."""
    return sorted(ROLLUP_FIXTURES.glob("*.rollup"))


#: Every release where smaps_rollup gained a line (4.14 is the file's first).
ROLLUP_RELEASES: tuple[Version, ...] = tuple(
    sorted({version(spec.since) for spec in ROLLUP_FIELDS.values()})
)


class GeneratedRollup(NamedTuple):
    """A rollup text written the way the kernel does, and the values it was written from."""

    text: bytes
    #: Values in bytes by attribute, for every line written.
    expected: dict[str, int]
    header: Optional[str]
    unknown: tuple[tuple[str, str], ...]


def rollup_line(name: str, kb: int) -> str:
    """One line as __show_smap() (fs/proc/task_mmu.c) prints it: key padded to 16, 8 digits."""
    if name == "Private_Hugetlb":
        return f"Private_Hugetlb: {kb:7d} kB"  # seq_put_decimal_ull_width(..., 7)
    return f"{name + ':':<16}{kb:8d} kB"


@st.composite
def kernel_rollups(draw: st.DrawFn) -> GeneratedRollup:
    """A smaps_rollup text of some release since 4.14, maybe with a vendor line."""
    release = draw(st.sampled_from(ROLLUP_RELEASES))
    expected: dict[str, int] = {}
    lines: list[str] = []
    header: Optional[str] = None
    if draw(st.booleans()):
        start = draw(st.integers(0x400000, 2**47))
        end = draw(st.integers(start, 2**47))
        header = f"{start:08x}-{end:08x} ---p 00000000 00:00 0{' ' * 26}[rollup]"
        lines.append(header)
    for name, spec in ROLLUP_FIELDS.items():
        if version(spec.since) > release:
            continue
        kb = draw(st.one_of(st.integers(0, 99_999_999), st.integers(0, 2**54)))
        lines.append(rollup_line(name, kb))
        expected[spec.attribute] = kb * 1024
    unknown: tuple[tuple[str, str], ...] = ()
    if draw(st.booleans()):  # Android kernels print Writeback (google/perfetto issue #258)
        at = draw(st.integers(1 if header else 0, len(lines)))
        kb = draw(st.integers(0, 2**20))
        lines.insert(at, rollup_line("Writeback", kb))
        unknown = (("Writeback", f"{kb} kB"),)
    return GeneratedRollup(("\n".join(lines) + "\n").encode(), expected, header, unknown)


#: Rollup texts to damage: the real ones, and generated ones.
ROLLUP_DAMAGE_BASES: st.SearchStrategy[bytes] = st.one_of(
    st.sampled_from([path.read_bytes() for path in rollup_fixtures()]),
    kernel_rollups().map(lambda made: made.text),
)
