"""The parser's fast paths: one regular expression for a whole text of a known shape. Pure.

# Strategy:
Goal: parse the texts of a live machine at little more than the cost of reading
them. The exact path (``_parse.py``: a loop over the lines, each checked by its
kind) costs several times the read, but one kernel prints only a handful of
*shapes* (the same keys in the same order: user processes, kernel threads,
zombies), and for a known shape one compiled regular expression can check the
whole text in a single pass in C.

Plan: the parser reports each shape it parsed (``learn``). The second time a
shape is seen, a :class:`Template` is made for it: each line ``Key:<TAB>``
followed by its kind's *fast layout*, the exact layout the kernel prints (a
subset of what the exact path accepts: one tab after the colon, ids of at most
32 bits, ...). A text is tried only against the templates with as many lines as
it has (``text.count("\\n")``, a C-level scan), which also spares a user
process the kernel-thread template in a scan. A match proves every line valid,
except for the few kinds whose check a pattern cannot make (range lists out of
order): those values are captured and checked. Anything else, and every error,
goes to the exact path, which gives the same result or the same error:
``parse`` returns a status or None, never anything else.

Values are not captured (the engine copies its group marks at every
repetition, which cost more than the match): the status keeps the text and cuts
every value out of it in one pass when the first one is read
(:meth:`Template.texts`). The memory lines, which task_mem() prints together,
are a :class:`MemoryBlock`: one match that captures only their digits, used
for ``status.memory`` and for ``parse_memory`` (which checks only memory lines);
when the block is the same text as the last one, its (immutable) Memory is
given back without converting again.

Why it stays linear: no fast layout, template or block has loops that can
match the same text two ways (Groups is ``(?:A A A A )*(?:A ){0,3} ?``, not two
loops that could share the groups out), so a failed match costs time in
proportion to the text. tests/test_parse_growth.py grows each long line
16-fold in texts whose template fails after it.

Why it stays small: one :class:`ShapeCache` class holds what was made, at
most eight items and 64 sightings; no template is made for a shape of more
lines or longer keys, or a text longer, than any kernel prints; and patterns are compiled
without staying in ``re``'s own cache, so what the cache lets go is freed.
``clear()`` forgets everything (tests check results cold and warm).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from functools import lru_cache
from itertools import repeat
from operator import attrgetter, getitem, itemgetter, mul
from typing import Generic, Optional, TypeVar, cast

from ._fields import FIELDS, MEMORY_FIELDS
from ._kinds import KB, TEXT, clear_caches
from ._model import Memory, ProcStatus

__all__ = ["clear", "learn", "learn_memory", "learnable", "parse", "parse_memory"]

V = TypeVar("V")

_BLANKS = " \t"
#: No template for shapes of more lines than any kernel prints (about 60; 80 with
#: an s390 register dump): a template costs time and memory per line.
MAX_KEYS = 128
#: Nor for texts longer than any status (about 720 KiB with 65,536 groups of ten
#: digits: see _procfs.STATUS_LIMIT).
MAX_TEXT = 1 << 20
#: Nor for shapes whose keys add up to more characters than any kernel's: the
#: longest key fs/proc/array.c prints has 26 characters (nonvoluntary_ctxt_switches)
#: and a status about 60 lines, under 1,000 characters of keys in all. A
#: template's pattern spells every key, so compiling it costs time and memory in
#: proportion to them (a second and megabytes for one key of a million
#: characters, which any text may hold).
MAX_KEY_CHARS = 2048

MEMORY_NAMES = tuple(spec.name for spec in MEMORY_FIELDS)


def compile_pattern(source: str) -> re.Pattern[str]:
    """``re.compile``, without leaving the pattern alive in ``re``'s module cache.

    ``re.compile`` keeps the last 512 patterns (3.12+: also 256 more in a second
    cache) alive; a template evicted from :class:`ShapeCache` would live on
    there, so it is taken out at once. The cache is private to ``re``: if its
    form changes, this frees nothing, and nothing else changes.
    """
    pattern = re.compile(source)
    for name in ("_cache", "_cache2"):
        cache = getattr(re, name, None)
        if isinstance(cache, dict):
            cache.pop((str, source, 0), None)
    return pattern


class ShapeCache(Generic[V]):
    """Items made for the shapes seen twice, newest first; bounded and clearable.

    Making an item compiles a pattern (milliseconds), so a shape is learned only
    when seen a second time: a one-off text never pays for it. ``size`` items
    are kept; sightings are forgotten when ``sightings`` of them pile up, so texts
    of ever new shapes cannot grow it. Readers take ``find()``'s tuple without a
    lock: it is replaced whole.
    """

    def __init__(
        self,
        make: Callable[[tuple[str, ...]], V],
        *,
        group: Callable[[V], int] = lambda item: 0,
        size: int = 8,
        sightings: int = 64,
    ) -> None:
        self._make = make
        self._group = group
        self._size = size
        self._sightings = sightings
        self._lock = threading.Lock()
        self._made: tuple[tuple[tuple[str, ...], V], ...] = ()
        self._groups: dict[int, tuple[V, ...]] = {}
        self._seen: dict[tuple[str, ...], None] = {}

    def find(self, group: int) -> tuple[V, ...]:
        """The items of one group (templates: of one line count), newest first."""
        return self._groups.get(group, ())

    @property
    def items(self) -> tuple[V, ...]:
        """Every item, newest first."""
        return tuple(item for _, item in self._made)

    def see(self, shape: tuple[str, ...]) -> None:
        """Count a sighting of ``shape``; make its item at the second one."""
        with self._lock:
            if any(known == shape for known, _ in self._made):
                return  # made already: this text fell off its layouts
            if shape not in self._seen:
                if len(self._seen) >= self._sightings:
                    self._seen.clear()
                self._seen[shape] = None
                return
            del self._seen[shape]
            self._made = ((shape, self._make(shape)), *self._made)[: self._size]
            groups: dict[int, list[V]] = {}
            for _, item in self._made:
                groups.setdefault(self._group(item), []).append(item)
            self._groups = {key: tuple(items) for key, items in groups.items()}

    def clear(self) -> None:
        with self._lock:
            self._made = ()
            self._groups = {}
            self._seen.clear()


class MemoryBlock:
    """The memory lines of one shape, in print order: one match gives a :class:`Memory`."""

    __slots__ = ("_last", "_pick", "names", "pattern")

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        # KB's fast layout, capturing only the digits: all the conversion needs.
        self.pattern = compile_pattern(
            "".join(f"{re.escape(name)}:\t *([0-9]{{1,20}}) kB\n" for name in names)
        )
        # From the matched numbers (and a None after them) to Memory's fields, in C.
        where = {name: position for position, name in enumerate(names)}
        self._pick = itemgetter(*(where.get(name, len(names)) for name in MEMORY_NAMES))
        #: The block last matched and its Memory: sampling loops often see the same
        #: lines again, and a Memory is immutable, so the same lines give it back.
        self._last: tuple[str, Optional[Memory]] = ("", None)

    def read(self, text: str, start: int) -> Optional[tuple[Memory, int]]:
        """The Memory of the block at ``start`` and where it ends, or None."""
        last, memory = self._last  # one read: another thread may replace it
        if memory is not None and text.startswith(last, start):
            return memory, start + len(last)
        match = self.pattern.match(text, start)
        if match is None:
            return None
        # "%8lu kB": bytes are kB * 1024 (C-level maps).
        numbers = [*map(mul, map(int, match.groups()), repeat(1024)), None]
        memory = Memory._make(self._pick(numbers))
        end = match.end()
        self._last = (text[start:end], memory)
        return memory, end


class Template:
    """One whole-text regular expression for one shape: these keys, in this order."""

    __slots__ = (
        "_block",
        "_block_head",
        "_checks",
        "_slices",
        "_strip",
        "index",
        "keys",
        "lines",
        "pattern",
    )

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys
        self.lines = len(keys)
        self.index = {key: position for position, key in enumerate(keys)}
        layouts = []
        checks: list[tuple[int, Callable[[str], Optional[str]]]] = []
        strip = []
        for position, key in enumerate(keys):
            spec = FIELDS.get(key)
            kind = TEXT if spec is None else spec.kind  # unknown lines are kept as text
            layout = kind._fast
            if kind._fast_check is not None:
                # Capture the few values still to check: cheaper than cutting them out.
                layout = f"({layout})"
                checks.append((len(checks) + 1, kind._fast_check))
            if kind._padded or kind is TEXT:
                strip.append(position)
            # No layout crosses a newline, so the lines are matched one after the
            # other: no name can pass for another line.
            layouts.append(f"{re.escape(key)}:\t{layout}\n")
        self.pattern = compile_pattern("".join(layouts))
        self._checks = tuple(checks)
        # Each value starts after "Key:<TAB>"; Name keeps every blank after that tab.
        self._slices = tuple(slice(len(key) + 2, None) for key in keys)
        self._strip = tuple(strip)
        memory = [key for key in keys if key in MEMORY_NAMES]
        self._block = MemoryBlock(tuple(memory)) if memory else None
        self._block_head = "" if not memory or memory[0] == keys[0] else f"\n{memory[0]}:\t"

    def texts(self, text: str) -> list[str]:
        """The text of every line of a matched ``text``, in order, as the exact path gives it."""
        values = cast("list[str]", list(map(getitem, text.split("\n"), self._slices)))
        for position in self._strip:
            values[position] = values[position].strip(_BLANKS)
        return values

    def memory(self, text: str) -> Optional[Memory]:
        """The memory lines of a matched ``text``, in one match."""
        block = self._block
        if block is None:
            return None
        # The text matched, so every newline ends a line: the find hits the block.
        start = text.find(self._block_head) + 1 if self._block_head else 0
        found = block.read(text, start)
        if found is None:  # cannot happen once the template matched; stay correct anyway
            texts = dict(zip(self.keys, self.texts(text)))
            return Memory._make(
                KB._convert(texts[name]) if name in texts else None for name in MEMORY_NAMES
            )
        return found[0]


#: Templates, grouped by their number of lines.
TEMPLATES: ShapeCache[Template] = ShapeCache(Template, group=attrgetter("lines"))
#: Memory blocks that start with VmPeak, for parse_memory.
BLOCKS: ShapeCache[MemoryBlock] = ShapeCache(MemoryBlock)


def parse(text: str) -> Optional[ProcStatus]:
    """The status of a text of a known shape, or None (then the exact path decides)."""
    for template in TEMPLATES.find(text.count("\n")):
        match = template.pattern.fullmatch(text)
        if match is not None:
            for group, check in template._checks:
                if check(match[group]) is not None:
                    return None  # the exact path reports it
            return ProcStatus._from_match(text, template)
    return None


def learnable(keys: tuple[str, ...]) -> bool:
    """Whether a shape of these keys is no larger than a kernel's: only those are learned.

    Also bounds what other modules keep per shape (``_json``'s plans).
    """
    return len(keys) <= MAX_KEYS and sum(map(len, keys)) <= MAX_KEY_CHARS


def learn(text: str, keys: tuple[str, ...]) -> None:
    """Count a sighting of the shape of a text the exact path parsed."""
    if not learnable(keys) or len(text) > MAX_TEXT:
        return  # larger than any kernel prints: a template would cost more than it saves
    if text.count("\n") != len(keys):
        return  # no template could match it: blank lines, continuation lines, no final newline
    positions = [position for position, key in enumerate(keys) if key in MEMORY_NAMES]
    if positions and positions[-1] - positions[0] + 1 != len(positions):
        return  # memory lines apart: no kernel prints them so, no block for them
    TEMPLATES.see(keys)


_MEMORY_STARTS = ("Vm", "Rss", "HugetlbPages:")
#: A line that may be a memory line: every MEMORY_FIELDS name starts this way.
_MEMORY_LINE = r"\n(?:Vm|Rss|HugetlbPages:)"


@lru_cache(maxsize=1)  # compiled when first used: importing procstatus compiles nothing
def _memory_line() -> re.Pattern[str]:
    return re.compile(_MEMORY_LINE)


def parse_memory(text: str) -> Optional[Memory]:
    """The memory lines of a text whose block is known, or None (the exact path decides).

    task_mem() (fs/proc/task_mmu.c) prints the memory lines together, VmPeak
    first, so one match at ``VmPeak:`` takes the whole block. Any other line that
    starts like a memory line sends the text to the exact path, which finds
    repeated lines and reports bad values.
    """
    start = text.find("\nVmPeak:\t") + 1
    if not start or text.startswith(_MEMORY_STARTS):
        return None
    for block in BLOCKS.find(0):
        found = block.read(text, start)
        if found is not None:
            memory, end = found
            line = _memory_line()
            if line.search(text, 0, start) or line.search(text, end - 1):
                continue  # a memory line outside the block: a longer block, or the exact path
            return memory
    return None


def learn_memory(memory: Memory) -> None:
    """Count a sighting of the memory lines of a text the exact path read."""
    names = tuple(name for name, value in zip(MEMORY_NAMES, memory) if value is not None)
    if names[0] == "VmPeak":
        BLOCKS.see(names)


def clear() -> None:
    """Forget every template, block and kept conversion (for tests)."""
    TEMPLATES.clear()
    BLOCKS.clear()
    clear_caches()
