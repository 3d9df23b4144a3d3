"""The parser's fast paths give exactly what the exact (reference) paths give.

parse_status and parse_memory first try the templates and memory blocks of text
shapes seen before (src/procstatus/_fastpath.py); these tests build them
directly and check, on the real corpus and on generated and damaged texts, that
whenever a fast path answers, the exact path gives the same values, and that it
never answers for a text the exact path rejects. Then the same through the
public functions: with the caches cleared, warm, and shared by threads.
"""

from __future__ import annotations

import gc
import re
import threading
import weakref
from collections.abc import Iterator
from typing import Optional, Union

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers_files import CORPUS_DIR, require
from procstatus import (
    FIELDS,
    Memory,
    ProcStatus,
    StatusParseError,
    _fastpath,
    _parse,
    parse_memory,
    parse_status,
)
from procstatus._kinds import KINDS, Kind
from strategies import CORPUS, DAMAGE_BASES, SOME, Generated, kernel_statuses, mutated


@pytest.fixture(autouse=True)
def cold_caches() -> Iterator[None]:
    """Each test starts and ends with nothing learned."""
    _fastpath.clear()
    yield
    _fastpath.clear()


def text_of(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def exact(text: str) -> Union[ProcStatus, StatusParseError]:
    """The exact path's status, or the error it raises."""
    try:
        keys, index, texts = _parse._parse_lines(text)
        return ProcStatus._from_lines(tuple(keys), index, texts)
    except StatusParseError as error:
        return error


def exact_memory(text: str) -> Union[Memory, StatusParseError, None]:
    try:
        return _parse._parse_memory_lines(text)
    except StatusParseError as error:
        return error


def same_status(fast: ProcStatus, reference: ProcStatus) -> None:
    """Every line, its text, its value and the memory view agree."""
    assert list(fast) == list(reference)
    assert [fast.raw(key) for key in fast] == [reference.raw(key) for key in reference]
    assert fast == reference
    assert fast.memory == reference.memory
    assert dict(fast.items()) == dict(reference.items())


def template_of(text: str) -> Optional[_fastpath.Template]:
    reference = exact(text)
    return None if isinstance(reference, StatusParseError) else _fastpath.Template(tuple(reference))


def block_of(text: str) -> Optional[_fastpath.MemoryBlock]:
    memory = exact_memory(text)
    if not isinstance(memory, Memory):
        return None
    names = tuple(name for name, value in zip(_fastpath.MEMORY_NAMES, memory) if value is not None)
    return _fastpath.MemoryBlock(names) if names[0] == "VmPeak" else None


def fast_with(template: _fastpath.Template, text: str) -> Optional[ProcStatus]:
    """What the fast path gives for ``text`` when ``template`` is the one it knows."""
    match = template.pattern.fullmatch(text)
    if match is None or any(check(match[group]) for group, check in template._checks):
        return None
    return ProcStatus._from_match(text, template)


def assert_fast_agrees(text: str, template: _fastpath.Template) -> bool:
    """If the template takes the text, the exact path takes it too, with the same values."""
    fast = fast_with(template, text)
    if fast is None:
        return False
    reference = exact(text)
    assert isinstance(reference, ProcStatus), reference
    same_status(fast, reference)
    return True


def assert_fast_memory_agrees(text: str, block: _fastpath.MemoryBlock) -> bool:
    start = text.find("\nVmPeak:\t") + 1
    found = block.read(text, start) if start else None
    if found is None:
        return False
    memory, end = found
    if text.startswith(("Vm", "Rss", "HugetlbPages:")) or re.search(
        r"\n(?:Vm|Rss|HugetlbPages:)", text[:start] + text[end - 1 :]
    ):
        return False  # the fast path declines such texts (checked below through parse_memory)
    assert memory == exact_memory(text)
    return True


# Each kind's fast layout.


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_every_fast_layout_is_one_line_without_groups(kind: Kind) -> None:
    assert re.compile(kind._fast).groups == 0
    assert "\n" not in re.sub(r"\[\^[^]]*\]", "", kind._fast.replace("\\n", "\n"))


@pytest.mark.parametrize(
    ("kind", "printed", "taken"),
    [
        (FIELDS["VmRSS"].kind, "    3060 kB", True),
        (FIELDS["VmRSS"].kind, "3060 kB ", False),  # valid, but not the kernel's layout
        (FIELDS["Uid"].kind, "0\t0\t0\t0", True),
        (FIELDS["Uid"].kind, "4294967295\t0\t0\t0", True),  # the largest 32-bit id
        (FIELDS["Uid"].kind, "4294967296\t0\t0\t0", False),  # one more: the exact path says why
        (FIELDS["Uid"].kind, "-1\t0\t0\t0", False),  # %d before 4.9: the exact path
        (FIELDS["Groups"].kind, " ", True),
        (FIELDS["Groups"].kind, "4 24 27 ", True),
        (FIELDS["Groups"].kind, "1 2 3 4 5 6 7 8 9 ", True),
        (FIELDS["Groups"].kind, "", True),
        (FIELDS["x86_Thread_features"].kind, "shstk wrss ", True),
        (FIELDS["Name"].kind, "a\\nb\\\\c d ", True),
        (FIELDS["Name"].kind, "a\\b", False),
        (FIELDS["Speculation_Store_Bypass"].kind, "  thread vulnerable ", True),
        (FIELDS["Cpus_allowed"].kind, "00000000,00000001", True),
        (FIELDS["Cpus_allowed"].kind, "00000000,0000001", False),
    ],
    ids=lambda value: repr(value) if isinstance(value, str) else None,
)
def test_fast_layouts_take_the_kernel_layout(kind: Kind, printed: str, taken: bool) -> None:
    fast = re.fullmatch(kind._fast, printed) is not None
    checked = kind._fast_check is None or kind._fast_check(printed) is None
    assert (fast and checked) is taken


# The corpus, generated texts and damaged texts, path against path.


def test_corpus_fast_path_agrees_with_the_exact_path() -> None:
    require(CORPUS_DIR)
    taken = 0
    for data in CORPUS:
        text = text_of(data)
        template = template_of(text)
        if template is not None:
            taken += assert_fast_agrees(text, template)
        block = block_of(text)
        if block is not None:
            assert assert_fast_memory_agrees(text, block) or "\nVmPeak:\t" not in text
    # Most real captures are printed exactly as the kernel prints: the fast path takes them.
    assert taken >= len(CORPUS) // 2


@SOME
@given(st.data())
def test_damaged_texts_fast_path_agrees_or_declines(data: st.DataObject) -> None:
    base = text_of(data.draw(DAMAGE_BASES))
    damaged = text_of(data.draw(mutated(st.just(base.encode("utf-8", "surrogateescape")))))
    template = template_of(base)
    if template is not None:
        assert_fast_agrees(damaged, template)
    block = block_of(base)
    if block is not None:
        assert_fast_memory_agrees(damaged, block)


@SOME
@given(kernel_statuses())
def test_generated_texts_take_the_fast_path(made: Generated) -> None:
    text = text_of(made.text)
    template = template_of(text)
    assert template is not None
    if re.search(r"\n(?:Uid|Gid|Groups):[^\n]*-", text) is None:  # %d ids: the exact path
        assert assert_fast_agrees(text, template)
    block = block_of(text)
    if block is not None:
        assert assert_fast_memory_agrees(text, block)


# Through the public functions: cold, warm, and in threads.


def outcome(text: Union[str, bytes]) -> object:
    """Everything parse_status and parse_memory say about a text, comparable with ==."""
    try:
        status = parse_status(text)
        result: object = (
            list(status),
            [status.raw(key) for key in status],
            dict(status.items()),
            status.memory,
        )
    except StatusParseError as error:
        result = str(error)
    try:
        memory: object = parse_memory(text)
    except StatusParseError as error:
        memory = str(error)
    return result, memory


def test_corpus_gives_the_same_results_cold_and_warm() -> None:
    require(CORPUS_DIR)
    cold = []
    for data in CORPUS:
        _fastpath.clear()
        cold.append(outcome(data))
    for _ in range(3):  # the second sighting of a shape makes its template; the third uses it
        assert [outcome(data) for data in CORPUS] == cold
    assert _fastpath.TEMPLATES.items  # the warm rounds did take the fast path


def test_corpus_gives_the_same_results_in_threads() -> None:
    require(CORPUS_DIR)
    expected = []
    for data in CORPUS:
        _fastpath.clear()
        expected.append(outcome(data))
    failures: list[str] = []

    def work(offset: int) -> None:
        for round_number in range(4):
            for index in range(len(CORPUS)):
                turn = (index + offset) % len(CORPUS)
                if outcome(CORPUS[turn]) != expected[turn]:
                    failures.append(f"thread {offset}, round {round_number}, text {turn}")
            if offset == 0 and round_number == 1:
                _fastpath.clear()  # caches cleared under the others' feet

    threads = [threading.Thread(target=work, args=(offset * 7,)) for offset in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@SOME
@given(kernel_statuses(), st.data())
def test_a_learned_shape_never_changes_a_result(made: Generated, data: st.DataObject) -> None:
    damaged = data.draw(mutated(st.just(made.text)))
    _fastpath.clear()
    cold = outcome(damaged)
    for _ in range(2):  # the shape is now known
        parse_status(made.text)
        parse_memory(made.text)
    assert outcome(damaged) == cold


def test_errors_are_the_same_once_the_shape_is_known() -> None:
    good = "Name:\tx\nPid:\t7\nVmPeak:\t    8 kB\nVmRSS:\t    4 kB\nThreads:\t1\n"
    for _ in range(3):
        parse_status(good)
        parse_memory(good)
    assert _fastpath.TEMPLATES.items
    bad = good.replace("Pid:\t7", "Pid:\tseven")
    with pytest.raises(StatusParseError, match=r"^line 2 \(Pid\): expected a decimal number"):
        parse_status(bad)
    twice = good.replace("Threads:\t1\n", "VmRSS:\t    4 kB\n")
    with pytest.raises(StatusParseError, match=r"^line 5 \(VmRSS\): the field appears twice"):
        parse_memory(twice)


def test_a_range_list_out_of_order_fails_the_template_too() -> None:
    good = "Name:\tx\nCpus_allowed_list:\t0-3\n"
    for _ in range(3):
        parse_status(good)
    bad = good.replace("0-3", "2-3,0")
    with pytest.raises(StatusParseError, match=r"^line 2 \(Cpus_allowed_list\): 0 is not above"):
        parse_status(bad)


# What a template gives.


def test_template_texts_are_the_exact_texts_in_file_order() -> None:
    text = "Name:\t a:\tb \nUmask:\t0022\nGroups:\t4 24 \nVmRSS:\t     512 kB\nFoo:\t x \n"
    template = _fastpath.Template(("Name", "Umask", "Groups", "VmRSS", "Foo"))

    status = fast_with(template, text)

    assert status is not None
    assert list(status) == ["Name", "Umask", "Groups", "VmRSS", "Foo"]
    assert [status.raw(key) for key in status] == [" a:\tb ", "0022", "4 24", "512 kB", "x"]
    assert "VmRSS" in status
    assert "VmSwap" not in status
    assert status.get("VmSwap") is None
    assert status.memory == Memory(rss=512 * 1024)


def test_template_is_tried_only_on_texts_with_its_number_of_lines() -> None:
    text = "Name:\tx\nPid:\t7\n"
    for _ in range(2):
        parse_status(text)
    (template,) = _fastpath.TEMPLATES.items

    assert _fastpath.TEMPLATES.find(2) == (template,)
    assert _fastpath.TEMPLATES.find(3) == ()
    assert _fastpath.parse(text) is not None
    assert _fastpath.parse(text + "Threads:\t1\n") is None


def test_a_memory_block_gives_back_the_same_memory_for_the_same_lines() -> None:
    text = "Name:\tx\nVmPeak:\t    8 kB\nVmRSS:\t    4 kB\n"
    block = _fastpath.MemoryBlock(("VmPeak", "VmRSS"))
    start = text.index("VmPeak")

    first = block.read(text, start)
    again = block.read(text, start)
    changed = block.read(text.replace("4 kB", "5 kB"), start)

    assert first is not None
    assert again is not None
    assert changed is not None
    assert first[0] == Memory(peak_size=8192, rss=4096)
    assert again[0] is first[0]
    assert changed[0] == Memory(peak_size=8192, rss=5120)
    assert first[1] == again[1] == len(text)


def test_a_longer_memory_block_is_not_hidden_by_a_shorter_one() -> None:
    full = "Name:\tx\nVmPeak:\t    8 kB\nVmSize:\t    8 kB\nVmRSS:\t    4 kB\n"
    short = "Name:\tx\nVmPeak:\t    8 kB\nVmSize:\t    8 kB\n"
    for text in (full, full, short, short):
        parse_memory(text)
    assert len(_fastpath.BLOCKS.items) == 2

    assert parse_memory(full) == Memory(peak_size=8192, size=8192, rss=4096)
    assert parse_memory(short) == Memory(peak_size=8192, size=8192)


# The cache: bounded, with what it lets go freed.


def test_a_shape_is_learned_at_its_second_sighting() -> None:
    text = "Name:\tx\nPid:\t1\n"
    parse_status(text)
    assert not _fastpath.TEMPLATES.items
    parse_status(text)
    assert [template.keys for template in _fastpath.TEMPLATES.items] == [("Name", "Pid")]


def test_a_template_pushed_out_of_the_cache_can_be_learned_again() -> None:
    texts = [f"Name:\tx\nPid:\t1\nExtra{n}:\tyes\n" for n in range(9)]
    for text in texts:  # the second sighting of each makes its template
        parse_status(text)
        parse_status(text)
    assert len(_fastpath.TEMPLATES.items) == 8
    first_keys = ("Name", "Pid", "Extra0")
    assert first_keys not in [template.keys for template in _fastpath.TEMPLATES.items]

    parse_status(texts[0])
    parse_status(texts[0])

    assert _fastpath.TEMPLATES.items[0].keys == first_keys


def test_templates_let_go_are_freed_not_kept_by_the_re_cache() -> None:
    texts = [f"Name:\tx\nPid:\t1\nGone{n}:\tyes\n" for n in range(12)]
    parse_status(texts[0])
    parse_status(texts[0])
    first = weakref.ref(_fastpath.TEMPLATES.items[0].pattern)
    for text in texts[1:]:
        parse_status(text)
        parse_status(text)
    gc.collect()
    assert first() is None


def test_no_template_for_a_shape_no_kernel_prints() -> None:
    many = "".join(f"Key{n}:\t1\n" for n in range(_fastpath.MAX_KEYS + 1))
    huge = "Name:\t" + "x" * _fastpath.MAX_TEXT + "\n"
    apart = "VmPeak:\t1 kB\nName:\tx\nVmRSS:\t1 kB\n"  # memory lines apart: no block for them
    for text in (many, many, huge, huge, apart, apart):
        parse_status(text)
    assert _fastpath.TEMPLATES.items == ()


def test_sightings_are_bounded() -> None:
    for n in range(200):
        parse_status(f"Name:\tx\nOnce{n}:\t1\n")
    assert len(_fastpath.TEMPLATES._seen) <= 64
    assert _fastpath.TEMPLATES.items == ()
