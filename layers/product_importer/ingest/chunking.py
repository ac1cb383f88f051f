"""Record boundaries of a CSV byte stream: one state machine for the splitter's cuts and the consumer's parse.

The records are Python ``csv``'s (non-strict, ``doublequote``): a ``"`` opens a quoted field only at the
start of a field; inside quotes ``""`` is a literal quote and a ``"`` followed by anything else closes
them; elsewhere a ``"`` is a literal character (``Monitor 27" IPS``). Records end at LF, CRLF or a lone CR
outside quotes, and every record counts, a blank line too (CONTRACT §1: row numbers match the file).

A broken quote never swallows the file (CONTRACT §1). A record holds at most ``max_record`` bytes (1 MiB)
before its line break (LF, CRLF or CR alike). If it holds more, it is one *broken* record: when a quoted field is still open there (or at
the end of the stream), the broken record ends with the line on which that quote opened ("unterminated
quote"); otherwise it ends with the line that crosses the limit ("too long"). A quoted field that holds a
line break and whose closing quote is followed by text (not spaces before a delimiter or a line break) is
an unterminated quote too: a stray quote that a quote lines later "closed" (``"12 inch`` … ``27" IPS``),
which csv would read as one field swallowing the lines between. Reading goes on at the next
line either way, so one bad line costs one row, and the splitter and the consumer, which both read
through :class:`RecordScanner`, see the same records whatever the block size or the starting point (any
record start).

Speed: no loop per byte or per record. A block without quotes is counted with ``bytes.count``. A block
with quotes is split at its quotes once (C); when every opening quote stands at the start of a field
(the "regular" case: every field quoted, or quoted descriptions), the quote parity alone says what is
inside quotes, so the record ends are the line breaks of the text outside quotes. Only a block where a
quote opens mid-field falls back to the exact state machine, which steps from quote to quote.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import repeat
from typing import BinaryIO, Protocol

MAX_RECORD_BYTES = 1 << 20  # CONTRACT §1: a longer record is a row error
BLOCK_SIZE = (1 << 20) - (64 << 10)  # a block and a short carry stay within one record limit
PROBE_BYTES = 4 << 10  # the first index after a broken record (RecordScanner._index)

HEAD_BYTES = 256  # what a broken record keeps of itself for its error message ...
HEAD_CELLS_BYTES = 64 << 10  # ... and up to the quote that opened, when it opened within this far (its cells)
UNTERMINATED_QUOTE = "unterminated quote"
TOO_LONG = "too long"

_QUOTE = 0x22
_CR = 0x0D
_LF = 0x0A
_NEUTRAL = bytes.maketrans(b"\r\n", b"  ")  # in-quote line breaks, made harmless for counting
_NOT_TERMINATOR = re.compile(rb"[^\r\n]")
_SPECIAL = re.compile(rb'["\r\n]')

# Exact machine states (named after the csv module's parser states).
_RECORD_START = 0
_FIELD_START = 1
_IN_FIELD = 2
_QUOTED = 3
_QUOTE_IN_QUOTED = 4


class ReadableStream(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


# ---- what the scanner reports -------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Records:
    """``count`` complete, well-formed records in ``[start, end)`` (absolute offsets, each < the cap).

    ``end_of(start, k)`` and ``last_end_within(start, limit)`` locate record ends inside the run; they
    are valid until the scanner is fed again."""

    start: int
    end: int
    count: int
    index: _Index | _OneRecord = field(repr=False)

    def end_of(self, start: int, k: int) -> int:
        """The end of the ``k``-th record (k ≥ 1) beginning at record start ``start`` of this run."""
        return self.index.kth_end(start, k)

    def count_between(self, start: int, end: int) -> int:
        """Records in ``[start, end)``, both record boundaries of this run."""
        return self.index.count(start, end)

    def last_end_within(self, start: int, limit: int) -> tuple[int, int] | None:
        """The last record end ≤ ``limit`` after ``start`` and the records before it, or None."""
        return self.index.last_end_within(start, limit)

    def ends(self, start: int, end: int) -> list[int]:
        """Every record end in ``(start, end]`` (one per record; use on short stretches)."""
        return self.index.ends(start, end)

    @property
    def data(self) -> bytes:
        """The run's bytes, as in the stream."""
        return self.index.source[: self.end - self.start]


@dataclass(frozen=True)
class BrokenRecord:
    """One record that is a row error as a whole: ``[start, end)``, ``reason`` UNTERMINATED_QUOTE or
    TOO_LONG, ``at`` where the open quote (or the cap) is, ``head`` its first bytes (for the message: at
    least ``HEAD_BYTES``, and with an open quote up to ``HEAD_BYTES`` past it when it opened within
    ``HEAD_CELLS_BYTES``, so the cells before it are known)."""

    start: int
    end: int
    reason: str
    at: int
    head: bytes = field(default=b"", repr=False)

    count = 1


Event = Records | BrokenRecord


# ---- the scanner --------------------------------------------------------------------------------------


class RecordScanner:
    """Feed the bytes of a stream that begins at a record start; get runs of records and broken records.

    Memory stays bounded: at most one block, plus the record in progress (under ``max_record`` bytes).
    """

    def __init__(self, delimiter: str, start: int = 0, *, max_record: int = MAX_RECORD_BYTES) -> None:
        if len(delimiter) != 1 or delimiter in '"\r\n' or ord(delimiter) > 0x7F:
            raise ValueError(f"unsupported delimiter {delimiter!r}")
        if max_record < 2:
            raise ValueError("max_record must be at least 2")
        self.delimiter = delimiter
        self._delim = ord(delimiter)
        # Bytes that may stand before an opening quote keep their value; every other byte becomes 0x01.
        keep = {_QUOTE, _CR, _LF, self._delim}
        # (a translation table, then the bytes a stretch before an opening quote may end with)
        self._irregular = (bytes(b if b in keep else 1 for b in range(256)),
                           (b"\r", b"\n", bytes([self._delim])))
        self._max = max_record
        self._buf = b""
        self._base = start  # absolute offset of _buf[0], always a record start (or inside a skip)
        # Skip mode: a broken record [_broken_start, …) runs to the first line break at or after _skip_from.
        self._skip_from: int | None = None
        self._broken: tuple[int, str, int] | None = None  # (start, reason, at)
        self._head = b""
        self._after_break = False  # the last record was broken: index a few KiB first (``_index``)
        self.position = start  # everything before this offset has been reported

    def feed(self, block: bytes) -> list[Event]:
        if not block:
            return []
        self._buf = self._buf + block if self._buf else block
        return self._drain(eof=False)

    def finish(self) -> list[Event]:
        return self._drain(eof=True)

    # -- internals ----------------------------------------------------------------------------------

    def _consume(self, n: int) -> None:
        self._buf = self._buf[n:]
        self._base += n
        self.position = self._base

    def _drain(self, eof: bool) -> list[Event]:
        events: list[Event] = []
        limit = self._max
        while True:
            if self._skip_from is not None:
                if not self._skip(events, eof):
                    return events
                continue
            buf = self._buf
            size = len(buf)
            if not size:
                return events
            # A record holds at most ``limit`` bytes before its line break (CONTRACT §1: longer is a row
            # error, whatever the line ending): look that far from this record start, plus its line break.
            window = min(size, limit + 1)
            if buf[window - 1] == _CR:
                if window < size and buf[window] == _LF:
                    window += 1  # the CRLF that ends a record of exactly ``limit`` bytes
                elif window == size and not eof:
                    window -= 1  # may begin a CRLF: wait for the next byte
            if window > 0:
                index = self._index(buf, window)
                if index.complete_count:
                    events.append(Records(self._base, self._base + index.complete_end, index.complete_count, index))
                    self._consume(index.complete_end)
                    continue
                if index.bad_quote is not None:  # buf[0]'s record holds a quote closed wrongly past a line break
                    self._break_at_quote(index.bad_quote)
                    continue
            # buf[0] begins a record with no end in the window.
            if size > limit and not (size == limit + 1 and buf[limit] == _CR and not eof):
                self._break_record(limit)
                continue
            if eof:
                self._last_record(events)
                continue
            return events

    def _index(self, buf: bytes, window: int) -> _Index:
        """The index of ``buf[:window]``. Right after a broken record, a few KiB first, growing fourfold until
        it holds a record end or a bad quote: indexing the whole window (up to ``max_record``) after every
        broken line made a file whose every line opens a quote quadratic (found by a tester: 60,000 such
        lines, 1.9 MB, took 24 minutes to split and held up every other import meanwhile)."""
        probe = min(window, PROBE_BYTES) if self._after_break else window
        while True:
            if probe < window and buf[probe - 1] == _CR and buf[probe] == _LF:
                probe += 1  # a CRLF whole
            index = _index_of(buf, probe, self._delim, self._irregular, self._base)
            if probe >= window or index.complete_count or index.bad_quote is not None:
                break
            probe = min(window, probe * 4)
        if index.complete_count:
            self._after_break = False
        return index

    def _break_record(self, mark: int) -> None:
        """The record at _buf[0] reached ``mark`` bytes without ending: it is broken; skip its line."""
        open_quote = _open_quote_at(self._buf, mark, self._delim)
        self._after_break = True
        self._head = self._buf[:min(_head_size(open_quote), mark)]  # (past the mark: as far as a block reached)
        if open_quote is None:
            self._broken = (self._base, TOO_LONG, self._base + mark)
            self._skip_from = self._base + mark
        else:
            self._broken = (self._base, UNTERMINATED_QUOTE, self._base + open_quote)
            self._skip_from = self._base + open_quote

    def _break_at_quote(self, open_quote: int) -> None:
        """The record at _buf[0] holds a quote opened at ``open_quote`` that never closes where a value can
        end (at the end of the stream, or closed past a line break with text after it): unterminated, skip
        its line."""
        self._head = self._buf[:_head_size(open_quote)]
        self._after_break = True
        self._broken = (self._base, UNTERMINATED_QUOTE, self._base + open_quote)
        self._skip_from = self._base + open_quote

    def _last_record(self, events: list[Event]) -> None:
        """At the end of the stream: the last record has no line break."""
        buf = self._buf
        open_quote = _open_quote_at(buf, len(buf), self._delim)
        if open_quote is None:
            end = self._base + len(buf)
            events.append(Records(self._base, end, 1, _OneRecord(self._base, end, buf)))
            self._consume(len(buf))
        else:
            self._break_at_quote(open_quote)

    def _skip(self, events: list[Event], eof: bool) -> bool:
        """In skip mode: end the broken record at the first line break at/after _skip_from. False: need more."""
        assert self._skip_from is not None and self._broken is not None
        buf = self._buf
        begin = max(0, self._skip_from - self._base)
        found = _first_break(buf, begin)
        if found < 0:
            if eof:
                end = len(buf)
            else:
                if len(buf) > begin:  # drop what is skipped, keep the broken record's bytes out of memory
                    self._buf = b""
                    self._base += len(buf)
                return False
        elif buf[found] == _CR and found + 1 == len(buf) and not eof:
            return False  # maybe a CRLF: wait for the next byte
        else:
            end = found + 2 if buf[found] == _CR and found + 1 < len(buf) and buf[found + 1] == _LF else found + 1
        start, reason, at = self._broken
        events.append(BrokenRecord(start, self._base + end, reason, at, self._head))
        self._skip_from = None
        self._broken = None
        self._consume(end)
        return True


def _head_size(open_quote: int | None) -> int:
    """How much of a broken record it keeps (``BrokenRecord.head``)."""
    if open_quote is not None and open_quote < HEAD_CELLS_BYTES:
        return open_quote + HEAD_BYTES
    return HEAD_BYTES


def _first_break(buf: bytes, begin: int) -> int:
    lf = buf.find(b"\n", begin)
    cr = buf.find(b"\r", begin, lf if lf >= 0 else len(buf))
    return cr if cr >= 0 else lf


# ---- indexes: where the records of one buffer end ---------------------------------------------------------


class _Index:
    """Record ends of ``buf[:complete_end]`` (a buffer that begins at a record start, absolute ``base``).

    Works in a *marked* text: the buffer outside quotes, each quoted section replaced by one ``"``, so
    every CR / LF in it ends a record. Subclasses map between buffer and marked positions."""

    complete_end: int  # buffer position after the last complete record (0: none)
    complete_count: int
    # The opening quote of a field that runs across a line break and is closed by a quote followed by
    # something else than a delimiter or a line break (``_quoted_sections``): the index stops at the
    # start of its record. None: no such field.
    bad_quote: int | None = None

    def __init__(self, marked: bytes, base: int, has_cr: bool, complete_end: int | None = None,
                 source: bytes | None = None) -> None:
        self.marked = marked
        self.source = marked if source is None else source  # the buffer's bytes as in the stream
        self.base = base
        self.has_cr = has_cr
        last = _last_break_end(marked, 0, len(marked), has_cr)
        self._marked_end = last
        self.complete_count = _breaks(marked, 0, last, self.has_cr) if last else 0
        if complete_end is None:
            complete_end = self._to_buffer(last) if last else 0
        self.complete_end = complete_end

    # mapping between buffer positions (record boundaries only) and marked positions
    def _to_buffer(self, pm: int) -> int:
        return pm

    def _to_marked(self, p: int) -> int:
        return p

    def _limit_to_marked(self, p: int) -> int:
        """A marked position for any buffer position ``p``: the last record end ≤ p is ≤ the result."""
        return p

    def count(self, start: int, end: int) -> int:
        a, b = self._to_marked(start - self.base), self._to_marked(end - self.base)
        return _breaks(self.marked, a, b, self.has_cr)

    def kth_end(self, start: int, k: int) -> int:
        a = self._to_marked(start - self.base)
        return self.base + self._to_buffer(_nth_break_end(self.marked, a, self._marked_end, k, self.has_cr))

    def last_end_within(self, start: int, limit: int) -> tuple[int, int] | None:
        if limit <= start:
            return None
        a = self._to_marked(start - self.base)
        b = min(self._limit_to_marked(limit - self.base), self._marked_end)
        marked = self.marked
        if b < len(marked) and b > a and marked[b - 1] == _CR and marked[b] == _LF:
            b -= 1  # a CRLF across the limit ends after it
        end = _last_break_end(marked, a, b, self.has_cr)
        if end <= a:
            return None
        return self.base + self._to_buffer(end), _breaks(marked, a, end, self.has_cr)

    def ends(self, start: int, end: int) -> list[int]:
        a, b = self._to_marked(start - self.base), self._to_marked(end - self.base)
        found = []
        marked = self.marked
        while a < b:
            i = _first_break(marked, a)
            if i < 0 or i >= b:
                break
            a = i + 2 if marked[i] == _CR and i + 1 < len(marked) and marked[i + 1] == _LF else i + 1
            found.append(self.base + self._to_buffer(a))
        return found


class _PlainIndex(_Index):
    """A buffer without quotes, or one whose in-quote line breaks the exact machine neutralised."""


class _QuotedIndex(_Index):
    """A buffer with regular quotes. In ``marked`` each quoted section (2 quotes and what they enclose) is
    one ``"``: after its m-th marker, marked runs in step with the buffer after its 2m-th quote."""

    def __init__(self, buf: bytes, marked: bytes, base: int, has_cr: bool, quotes: int) -> None:
        self.buf = buf
        self._to_buffer_at = (0, 0, -1, -1)  # (marked position, markers before it, last marker, its 2nd quote)
        self._to_marked_at = (0, 0, -1, -1)  # (buffer position, quotes before it, last quote, its marker)
        super().__init__(marked, base, has_cr, _last_outside_break_end(buf, quotes, has_cr), buf)

    def _to_buffer(self, pm: int) -> int:
        at, markers, marker, quote = self._to_buffer_at
        if pm < at:
            at, markers, marker, quote = 0, 0, -1, -1
        more = self.marked.count(b'"', at, pm)
        if more:
            marker = _nth(self.marked, marker + 1, pm, more)
            quote = _nth(self.buf, quote + 1, len(self.buf), 2 * more)
            markers += more
        self._to_buffer_at = (pm, markers, marker, quote)
        return pm if not markers else quote + (pm - marker)

    def _to_marked(self, p: int) -> int:
        """Buffer → marked; a position inside a quoted section maps to its marker (no record ends there)."""
        at, quotes, quote, marker = self._to_marked_at  # marker: that of the section of the last quote
        if p < at:
            at, quotes, quote, marker = 0, 0, -1, -1
        more = self.buf.count(b'"', at, p)
        if more:
            quote = _nth(self.buf, quote + 1, p, more)
            new_markers = (quotes + more + 1) // 2 - (quotes + 1) // 2
            if new_markers:
                marker = _nth(self.marked, marker + 1, len(self.marked), new_markers)
            quotes += more
        self._to_marked_at = (p, quotes, quote, marker)
        if not quotes:
            return p
        return marker if quotes % 2 else marker + (p - quote)

    def _limit_to_marked(self, p: int) -> int:
        return self._to_marked(p)


class _OneRecord:
    """The index of a run of exactly one record (the last one, without a line break)."""

    def __init__(self, start: int, end: int, source: bytes) -> None:
        self.start, self.end, self.source = start, end, source

    def kth_end(self, start: int, k: int) -> int:
        return self.end

    def count(self, start: int, end: int) -> int:
        return 1 if start == self.start and end == self.end else 0

    def last_end_within(self, start: int, limit: int) -> tuple[int, int] | None:
        return (self.end, 1) if start == self.start and self.end <= limit else None

    def ends(self, start: int, end: int) -> list[int]:
        return [self.end] if start == self.start and end >= self.end else []


def _index_of(buf: bytes, work_end: int, delim: int, irregular: tuple[bytes, tuple[bytes, ...]],
              base: int) -> _Index:
    """Index the record ends of ``buf[:work_end]`` (buf begins at a record start)."""
    work = buf if work_end == len(buf) else buf[:work_end]
    has_cr = work.find(b"\r") >= 0
    parts = work.split(b'"')
    quotes = len(parts) - 1
    if not quotes:
        return _PlainIndex(work, base, has_cr)
    outside = parts[0::2]
    del parts
    marked = b'"'.join(outside)
    if quotes % 2:  # the last quote opens a section that runs on
        marked += b'"'
    # Regular: every quote that opens a section stands at a field start (after a delimiter, a line break,
    # the record start, or the closing quote of a "" pair): then parity pairs the quotes as csv does. So
    # every stretch outside quotes that a quote follows is empty or ends with one of those bytes.
    opened = outside if quotes % 2 else outside[:-1]
    # Clean: every quote that closes a section is followed by a delimiter, a line break, another quote (a
    # "" pair) or nothing yet. A close followed by anything else may end a field that swallowed lines (a
    # stray quote closed by an inch mark further down): the exact machine decides.
    closed = outside[1:]
    if len(marked) > 32 * len(opened):  # long stretches: look at their last bytes
        regular = sum(map(bytes.endswith, opened, repeat(irregular[1]))) + opened.count(b"") == len(opened)
        clean = sum(map(bytes.startswith, closed, repeat(irregular[1]))) + closed.count(b"") == len(closed)
    else:  # short stretches: look at every byte before and after a marker
        translated = marked.translate(irregular[0])
        regular = translated.find(b'\x01"') < 0
        clean = translated.find(b'"\x01') < 0
    if regular and clean:
        return _QuotedIndex(work, marked, base, has_cr, quotes)
    return _exact_index(work, delim, base, has_cr)


def _exact_index(work: bytes, delim: int, base: int, has_cr: bool) -> _Index:
    """The exact machine's index of ``work``; up to the record of the first field closed wrongly past a
    line break (``_Index.bad_quote``), if there is one."""
    sections, _, _, bad = _quoted_sections(work, len(work), delim, until_bad=True)
    if bad is None:
        return _PlainIndex(_neutral(work, sections), base, has_cr, source=work)
    neutral = _neutral(work[:bad], [s for s in sections if s[1] <= bad])
    record_start = _last_break_end(neutral, 0, bad, has_cr)
    index = _PlainIndex(neutral[:record_start], base, has_cr, source=work[:record_start])
    index.bad_quote = bad
    return index


def _last_outside_break_end(buf: bytes, quotes: int, has_cr: bool) -> int:
    """After the last line break outside quotes in a regular ``buf`` holding ``quotes`` quotes (0: none)."""
    end = len(buf)
    after = 0  # quotes in buf[i:end]
    while True:
        i = buf.rfind(b"\n", 0, end)
        if has_cr:
            i = max(i, buf.rfind(b"\r", max(i, 0), end))
        if i < 0:
            return 0
        after += buf.count(b'"', i, end)
        if (quotes - after) % 2 == 0:
            return i + 2 if buf[i] == _CR and i + 1 < len(buf) and buf[i + 1] == _LF else i + 1
        end = i


def _breaks(text: bytes, a: int, b: int, has_cr: bool) -> int:
    """Record terminators (LF, CRLF, CR) in ``text[a:b]``; a CRLF across ``a`` or ``b`` must not occur."""
    n = text.count(b"\n", a, b)
    if has_cr:
        n += text.count(b"\r", a, b) - text.count(b"\r\n", a, b)
    return n


def _last_break_end(text: bytes, a: int, b: int, has_cr: bool = True) -> int:
    """The position after the last terminator in ``text[a:b]`` (a CRLF whole), or ``a`` if none."""
    i = text.rfind(b"\n", a, b)
    if has_cr:
        i = max(i, text.rfind(b"\r", max(i, a), b))
    if i < 0:
        return a
    if text[i] == _CR and i + 1 < b and text[i + 1] == _LF:
        return i + 2
    return i + 1


def _nth(text: bytes, a: int, b: int, n: int, needle: bytes = b'"') -> int:
    """The position of the ``n``-th ``needle`` byte (n ≥ 1) in ``text[a:b]``; it must exist."""
    if n <= 8:
        pos = a - 1
        for _ in range(n):
            pos = text.find(needle, pos + 1, b)
        return pos
    lo, before, step = a, 0, 1024
    while True:
        hi = min(b, lo + step)
        found = text.count(needle, lo, hi)
        if before + found >= n or hi >= b:
            break
        lo, before = hi, before + found
        step *= 2
    while hi - lo > 256:
        mid = (lo + hi) // 2
        found = text.count(needle, lo, mid)
        if before + found >= n:
            hi = mid
        else:
            lo, before = mid, before + found
    pos = lo - 1
    for _ in range(n - before):
        pos = text.find(needle, pos + 1, b)
    return pos


def _nth_break_end(text: bytes, a: int, b: int, k: int, has_cr: bool) -> int:
    """The position after the ``k``-th terminator (k ≥ 1) in ``text[a:b]``; it must exist."""
    if k < 1:
        raise ValueError("k must be at least 1")
    lo, before = a, 0
    step = 4096
    # Gallop: grow a window until it holds the k-th terminator, then halve it.
    while True:
        hi = min(b, lo + step)
        if has_cr and hi < b and text[hi - 1] == _CR and text[hi] == _LF:
            hi += 1
        found = _breaks(text, lo, hi, has_cr)
        if before + found >= k or hi >= b:
            break
        lo, before = hi, before + found
        step *= 2
    while hi - lo > 256:
        mid = (lo + hi) // 2
        if has_cr and text[mid - 1] == _CR and text[mid] == _LF:
            mid += 1
        found = _breaks(text, lo, mid, has_cr)
        if before + found >= k:
            hi = mid
        else:
            lo, before = mid, before + found
    pos = lo
    while True:
        i = _first_break(text, pos)
        if i < 0 or i >= b:
            raise ValueError(f"fewer than {k} records")
        pos = i + 2 if text[i] == _CR and i + 1 < len(text) and text[i + 1] == _LF else i + 1
        before += 1
        if before == k:
            return pos


# ---- the exact state machine ------------------------------------------------------------------------------


def _quoted_sections(buf: bytes, stop: int, delim: int, *, until_bad: bool = False
                     ) -> tuple[list[tuple[int, int]], int, int, int | None]:
    """Step from quote to quote through ``buf[:stop]`` (which begins at a record start) as csv does.

    Returns the quoted sections' contents ``[(begin, end))``, the state at ``stop``, the position of
    the last opening quote (meaningful when the state is _QUOTED or _QUOTE_IN_QUOTED), and the opening
    quote of the first *bad* field, or None: a quoted field that holds a line break and whose closing
    quote is followed by text (other than spaces before a delimiter or a line break: ``"12 inch screen`` …
    lines later … ``27" IPS``). csv would read on to that quote and swallow the lines between; CONTRACT §1 says
    a broken quote costs one row, so the field is an unterminated quote (the scanner's caller stops there)."""
    sections: list[tuple[int, int]] = []
    state = _RECORD_START
    pos = 0
    opened = -1
    bad: int | None = None
    find = buf.find
    while pos < stop:
        if state == _QUOTED:
            closing = find(b'"', pos, stop)
            if closing < 0:
                break
            pos = closing + 1
            state = _QUOTE_IN_QUOTED
            continue
        if state == _QUOTE_IN_QUOTED:
            after = buf[pos]
            if after == _QUOTE:  # "" is a literal quote
                pos += 1
                state = _QUOTED
                continue
            if (bad is None and after != delim and after != _LF and after != _CR
                    and _text_after(buf, pos, stop, delim)
                    and (find(b"\n", opened, pos) >= 0 or find(b"\r", opened, pos) >= 0)):
                bad = opened
                if until_bad:  # (the caller stops there: stepping on made every broken line cost the window)
                    return sections, state, opened, bad
            sections.append((opened + 1, pos - 1))
            state = _IN_FIELD  # anything else closes the quotes; the byte is handled as outside
        quote = find(b'"', pos, stop)
        end = stop if quote < 0 else quote
        if end > pos:
            last = buf[end - 1]
            state = _RECORD_START if last in (_LF, _CR) else _FIELD_START if last == delim else _IN_FIELD
        if quote < 0:
            return sections, state, opened, bad
        if state in (_RECORD_START, _FIELD_START):
            state = _QUOTED
            opened = quote
        pos = quote + 1  # else: a literal quote inside an unquoted field
    if state == _QUOTED:
        sections.append((opened + 1, stop))
    elif state == _QUOTE_IN_QUOTED:  # the last byte closed the quotes (or begins a "" pair past stop)
        sections.append((opened + 1, stop - 1))
    return sections, state, opened, bad


def _text_after(buf: bytes, pos: int, stop: int, delim: int) -> bool:
    """Whether a closing quote just before ``pos`` is followed by text: spaces then something else than
    a delimiter or a line break (``"a" ,b`` is a value with spaces after it; unknown past ``stop``)."""
    while pos < stop and buf[pos] == 0x20:
        pos += 1
    return pos < stop and buf[pos] not in (delim, _CR, _LF)


def _neutral(buf: bytes, sections: list[tuple[int, int]]) -> bytes:
    """``buf`` with every line break inside its quoted ``sections`` replaced by a space (same length)."""
    pieces = []
    pos = 0
    for begin, end in sections:
        pieces.append(buf[pos:begin])
        pieces.append(buf[begin:end].translate(_NEUTRAL))
        pos = end
    pieces.append(buf[pos:])
    return b"".join(pieces)


def _open_quote_at(buf: bytes, mark: int, delim: int) -> int | None:
    """Where the quote still open at ``mark`` opened (buf begins at a record start), or None.

    At the end of ``buf`` a quote just read closes the field; before it, the byte at ``mark`` decides."""
    _, state, opened, _ = _quoted_sections(buf, mark, delim)
    if state == _QUOTED or (state == _QUOTE_IN_QUOTED and mark < len(buf) and buf[mark] == _QUOTE):
        return opened
    return None


# ---- chunks: the splitter's cuts ------------------------------------------------------------------------


@dataclass(frozen=True)
class ByteRange:
    """One chunk: bytes ``[start, end)`` of the object hold ``rows`` records, the first numbered ``first_row``.

    ``context``: the byte range of the first record of the family that the chunk's first record belongs
    to, when that family began in an earlier chunk (profiles with row families; else None)."""

    chunk_no: int  # 0-based
    start: int
    end: int  # exclusive
    first_row: int  # 1-based data row number (header excluded)
    rows: int
    context: tuple[int, int] | None = None
    context_key: str | None = field(default=None, compare=False)  # the family's key, for checkpoints


@dataclass(frozen=True)
class SplitPosition:
    """Where a split stands between two chunks (a checkpoint): the next chunk's number, offset and first
    row, and the family context it inherits (with the family's key)."""

    chunk_no: int
    offset: int
    first_row: int
    context: tuple[int, int] | None = None
    context_key: str | None = None


FamilyKey = Callable[[bytes], "str | None"]  # a record's bytes → its family (e.g. a Shopify Handle)


def split_ranges(
    stream: BinaryIO | ReadableStream,
    *,
    start: int,
    delimiter: str,
    rows_per_chunk: int,
    bytes_per_chunk: int = 8 << 20,
    max_record: int = MAX_RECORD_BYTES,
    block_size: int = BLOCK_SIZE,
    family_key: FamilyKey | None = None,
    resume: SplitPosition | None = None,
) -> Iterator[ByteRange]:
    """Yield contiguous, record-aligned ranges of at most ``rows_per_chunk`` records and at most
    ``bytes_per_chunk`` bytes (unless one record alone is larger), lazily, from one pass over ``stream``.

    ``stream`` is positioned at byte ``start`` (where the data begins; with ``resume``, at the checkpoint's
    offset) and is only ``read``. The cuts depend only on the bytes, never on the block size, so a split
    resumed from any checkpoint cuts exactly as an uninterrupted one. With ``family_key``, a cut never
    separates two records of one family, unless the family alone fills a chunk: then the next chunk's
    ``context`` is the family's first record.
    """
    if rows_per_chunk < 1:
        raise ValueError("rows_per_chunk must be at least 1")
    if block_size < 1:
        raise ValueError("block_size must be at least 1")
    if bytes_per_chunk < 1:
        raise ValueError("bytes_per_chunk must be at least 1")
    position = resume or SplitPosition(0, start, 1)
    scanner = RecordScanner(delimiter, position.offset, max_record=max_record)
    cutter = Cutter(position, rows_per_chunk, bytes_per_chunk, delimiter, max_record, family_key)
    while block := stream.read(block_size):
        cutter.take(scanner.feed(block), block)
        yield from cutter.ready()
    cutter.take(scanner.finish(), b"")
    cutter.close()
    yield from cutter.ready()


class Cutter:
    """Cuts chunks out of the scanner's events (the splitter's policy, apart from the reading)."""

    def __init__(self, position: SplitPosition, max_rows: int, max_bytes: int, delimiter: str, max_record: int,
                 family_key: FamilyKey | None = None) -> None:
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.delimiter = delimiter
        self.max_record = max_record
        self.family_key = family_key
        self.chunk_no = position.chunk_no
        self.start = position.offset
        self.first_row = position.first_row
        self.context = position.context
        self.context_key = position.context_key
        self.rows = 0
        self.end = position.offset
        self._ready: list[ByteRange] = []
        # With families: the bytes from the current chunk's start on, to read its records at a cut.
        self._pending = bytearray()
        self._pending_start = position.offset
        self._pending_limit = max_bytes + 2 * max_record + 2 * BLOCK_SIZE

    @property
    def position(self) -> SplitPosition:
        """The checkpoint after the last chunk handed out: where the next chunk begins."""
        return SplitPosition(self.chunk_no, self.start, self.first_row, self.context, self.context_key)

    def ready(self) -> list[ByteRange]:
        ready, self._ready = self._ready, []
        return ready

    def take(self, events: list[Event], block: bytes) -> None:
        if self.family_key is not None and block:
            self._pending += block
            excess = len(self._pending) - self._pending_limit
            if excess > 0:  # a huge broken record: too far back to look at the chunk's records
                del self._pending[:excess]
                self._pending_start += excess
        for event in events:
            if isinstance(event, BrokenRecord):
                self._add_broken(event)
            else:
                self._add_run(event)

    def close(self) -> None:
        if self.rows:
            self._emit(self.end, self.rows, None, None)

    def _add_broken(self, event: BrokenRecord) -> None:
        while self.rows and (self.rows >= self.max_rows or event.end - self.start > self.max_bytes):
            self._cut(event.start, None)  # a broken record is in no family
        self.rows += 1
        self.end = event.end

    def _add_run(self, run: Records) -> None:
        pos, left = run.start, run.count
        while left:
            room = self.max_rows - self.rows
            limit = self.start + self.max_bytes
            if left <= room and run.end <= limit:
                self.rows += left
                self.end = run.end
                return
            taken = 0
            end = pos
            if room > 0:
                candidate: tuple[int, int] | None = (run.end_of(pos, room), room) if left > room else (run.end, left)
                if candidate is not None and candidate[0] > limit:
                    candidate = run.last_end_within(pos, limit)
                if candidate is not None:
                    end, taken = candidate
            if taken == 0 and self.rows == 0:  # one record alone is larger than a chunk: it is a chunk
                end, taken = run.end_of(pos, 1), 1
            self.rows += taken
            self.end = end
            left -= taken
            pos = end
            if left:
                following = self.family_key(self._bytes(pos, run.end_of(pos, 1))) if self.family_key else None
                self._cut(pos, following)

    def _cut(self, cut: int, following: str | None) -> None:
        """End the chunk at ``cut``, a record start (``following``: the family of the record there). With
        families, at the start of the family open at the cut instead, or, when the family fills the chunk,
        at ``cut`` with the family's first record as the next chunk's context.

        A record without a family (a blank line, a row without a key, a row the consumer rejects whole)
        belongs to the family around it: the family goes on after it, as in a chunk that holds it all."""
        if self.family_key is None or self.start < self._pending_start:
            self._emit(cut, self.rows, None, None)
            return
        ends = record_ends(self._bytes(self.start, cut), self.start, self.delimiter, self.max_record)
        starts = [self.start, *ends[:-1]]
        # Walk back over the family open at the cut: ``first`` is its first record with a key in this chunk.
        key: str | None = None
        first = i = len(ends)
        while i > 0:
            found = self.family_key(self._bytes(starts[i - 1], ends[i - 1]))
            if found is not None:
                if key is None:
                    if following is not None and found != following:
                        break  # the next record begins another family
                    key = found
                elif found != key:
                    break
                first = i - 1
            i -= 1
        inside = i == 0 and self.context_key is not None and key in (None, self.context_key)
        if inside:  # the chunk began inside this family, and holds nothing else
            key = self.context_key
        if key is None or (following is not None and following != key):
            self._emit(cut, self.rows, None, None)  # no family is open, or the next record begins another
        elif not inside and first > 0:  # move the cut back to the family's first record
            carried = len(ends) - first
            self._emit(starts[first], self.rows - carried, None, None)
            self.rows = carried
            self.end = cut
        else:  # the family fills the chunk: the next chunk needs the family's first record
            context = self.context if inside else (starts[first], ends[first])
            self._emit(cut, self.rows, context, key)

    def _bytes(self, start: int, end: int) -> bytes:
        return bytes(self._pending[start - self._pending_start : end - self._pending_start])

    def _emit(self, end: int, rows: int, next_context: tuple[int, int] | None, next_key: str | None) -> None:
        self._ready.append(
            ByteRange(self.chunk_no, self.start, end, self.first_row, rows, self.context, self.context_key))
        self.chunk_no += 1
        self.start = end
        self.first_row += rows
        self.rows = 0
        self.end = end
        self.context, self.context_key = next_context, next_key
        if self.family_key is not None and end > self._pending_start:
            del self._pending[: end - self._pending_start]
            self._pending_start = end


def record_ends(data: bytes, start: int, delimiter: str, max_record: int = MAX_RECORD_BYTES) -> list[int]:
    """The end of every record in ``data`` (absolute, ``data`` begins at record start ``start``)."""
    scanner = RecordScanner(delimiter, start, max_record=max_record)
    ends: list[int] = []
    for event in (*scanner.feed(data), *scanner.finish()):
        if isinstance(event, BrokenRecord):
            ends.append(event.end)
        else:
            ends.extend(event.ends(event.start, event.end))
    return ends


# ---- the header line ------------------------------------------------------------------------------------


def first_record_end(
    data: bytes, delimiter: str, *, start: int = 0, eof: bool
) -> tuple[int, int, int] | None:
    """Find the first non-blank record in ``data[start:]``: ``(begin, end, next_start)``.

    ``end`` excludes the line terminator, ``next_start`` follows it (CRLF is one terminator). ``None``
    when ``data`` does not hold the whole record yet (or, with ``eof``, holds no record at all).
    Meant for the header line, which is short: it steps from quote to quote.
    """
    found = _NOT_TERMINATOR.search(data, start)
    if found is None:
        return None
    begin = pos = found.start()
    size = len(data)
    separator = ord(delimiter)
    incomplete = (begin, size, size) if eof else None
    while True:
        special = _SPECIAL.search(data, pos)
        if special is None:
            return incomplete
        i = special.start()
        char = data[i]
        if char == _QUOTE:
            if i != begin and data[i - 1] != separator:
                pos = i + 1  # literal quote inside an unquoted field
                continue
            pos = i + 1
            while True:  # inside a quoted field
                closing = data.find(b'"', pos)
                if closing < 0 or (closing + 1 == size and not eof):
                    return incomplete
                if closing + 1 < size and data[closing + 1] == _QUOTE:
                    pos = closing + 2
                    continue
                pos = closing + 1
                break
            continue
        if char == _CR:
            if i + 1 == size and not eof:
                return None  # a CRLF may be split across reads
            next_start = i + 2 if i + 1 < size and data[i + 1] == _LF else i + 1
            return begin, i, next_start
        return begin, i, i + 1
