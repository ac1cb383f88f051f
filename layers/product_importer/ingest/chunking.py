"""Row-aligned byte ranges of a CSV object, found in one streaming pass (DESIGN decision 1).

The scanner follows the record boundaries of Python's ``csv`` module (non-strict, ``doublequote``):
a ``"`` opens a quoted field only at the start of a field; inside quotes ``""`` is a literal quote and a
``"`` followed by anything else closes them; elsewhere a ``"`` is a literal character. Records end at
LF, CRLF or a lone CR outside quotes. Blank records (empty lines) are not rows: they neither count nor
take a row number, exactly as in :func:`product_importer.ingest.rows.parse_chunk`.

It never loops per byte: quotes and line breaks are found with ``bytes.find`` / ``bytes.count`` and a
compiled regex, and a stretch without quotes is counted in one go.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import BinaryIO, Protocol

_QUOTE = 0x22
_CR = 0x0D
_LF = 0x0A
_TERMINATOR_RUN = re.compile(rb"[\r\n]+")
_NOT_TERMINATOR = re.compile(rb"[^\r\n]")
_SPECIAL = re.compile(rb'["\r\n]')

# Scanner states between stretches and blocks (names after the csv module's parser states).
_RECORD_START = 0  # nothing of the current record seen yet (also: after a line break)
_FIELD_START = 1  # right after a delimiter
_IN_FIELD = 2  # inside an unquoted field
_QUOTED = 3  # inside a quoted field
_QUOTE_IN_QUOTED = 4  # a quote seen inside a quoted field: the next byte decides


class ReadableStream(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


@dataclass(frozen=True)
class ByteRange:
    """One chunk: bytes ``[start, end)`` of the object hold ``rows`` records, the first numbered ``first_row``."""

    chunk_no: int  # 0-based
    start: int
    end: int  # exclusive
    first_row: int  # 1-based data row number (header excluded)
    rows: int


def split_ranges(
    stream: BinaryIO | ReadableStream,
    *,
    start: int,
    delimiter: str,
    rows_per_chunk: int,
    block_size: int = 1 << 20,
) -> Iterator[ByteRange]:
    """Yield row-aligned ranges of ``rows_per_chunk`` records (the last one shorter), lazily.

    ``stream`` is positioned at byte ``start`` (where the data begins) and is only ``read``, never
    sought. Ranges are contiguous and cover ``[start, end of stream)``: a chunk ends where the next
    chunk's first record begins, so blank lines go with the chunk before them. No records, no ranges.
    An unterminated quote makes the rest of the stream one last record.
    """
    if rows_per_chunk < 1:
        raise ValueError("rows_per_chunk must be at least 1")
    if block_size < 1:
        raise ValueError("block_size must be at least 1")
    if len(delimiter) != 1 or delimiter in '"\r\n' or ord(delimiter) > 0x7F:
        raise ValueError(f"unsupported delimiter {delimiter!r}")
    splitter = _Splitter(start, ord(delimiter), rows_per_chunk)
    while block := stream.read(block_size):
        splitter.feed(block)
        yield from splitter.take()
    splitter.finish()
    yield from splitter.take()


class _Splitter:
    """Quote state and the chunk being built, carried from block to block."""

    def __init__(self, start: int, delimiter: int, rows_per_chunk: int) -> None:
        self.delimiter = delimiter
        self.rows_per_chunk = rows_per_chunk
        self.state = _RECORD_START
        self.offset = start  # absolute offset of the next block
        self.chunk_no = 0
        self.chunk_start = start
        self.first_row = 1
        self.rows = 0  # records begun in the current chunk
        self.ready: list[ByteRange] = []

    def take(self) -> list[ByteRange]:
        ready, self.ready = self.ready, []
        return ready

    def finish(self) -> None:
        if self.rows:
            self.ready.append(
                ByteRange(self.chunk_no, self.chunk_start, self.offset, self.first_row, self.rows)
            )
            self.rows = 0

    def feed(self, block: bytes) -> None:
        n = len(block)
        pos = 0
        state = self.state
        while pos < n:
            if state == _QUOTED:
                closing = block.find(b'"', pos)
                if closing < 0:
                    break
                pos = closing + 1
                state = _QUOTE_IN_QUOTED
                continue
            if state == _QUOTE_IN_QUOTED:
                char = block[pos]
                if char == _QUOTE:  # "" is a literal quote
                    pos += 1
                    state = _QUOTED
                    continue
                if char == self.delimiter and pos + 1 < n and block[pos + 1] == _QUOTE:
                    pos += 2  # "," between two quoted fields (files that quote everything)
                    state = _QUOTED
                    continue
                # Anything else closes the quotes; a delimiter or line break there acts as usual.
                state = _IN_FIELD
            quote = block.find(b'"', pos)
            stop = n if quote < 0 else quote
            if stop > pos:
                state = self._unquoted(block, pos, stop, state)
            if quote < 0:
                break
            if state == _RECORD_START:
                self._record_begins(self.offset + quote)
                state = _QUOTED
            elif state == _FIELD_START:
                state = _QUOTED
            # else: a quote inside an unquoted field is a literal character
            pos = quote + 1
        self.state = state
        self.offset += n

    def _unquoted(self, block: bytes, a: int, b: int, state: int) -> int:
        """Count the records that begin in ``block[a:b]`` (no quotes in it) and return the state at ``b``."""
        last = block[b - 1]
        ends_with_break = last in (_LF, _CR)
        if b - a == 1:  # common between quoted fields: a lone delimiter or line break
            if ends_with_break:
                return _RECORD_START
            if state == _RECORD_START:
                self._record_begins(self.offset + a)
            return _FIELD_START if last == self.delimiter else _IN_FIELD
        lead = state == _RECORD_START and block[a] != _LF and block[a] != _CR
        # Every record but the first begins right after a run of line breaks; a run at ``b`` begins its
        # record in the next stretch. In the usual case every run is a single LF or CRLF: count them.
        breaks = block.count(b"\n", a, b)
        simple = block.find(b"\n\n", a, b) < 0
        if simple and block.find(b"\r", a, b) >= 0:
            simple = block.count(b"\r", a, b) == block.count(b"\r\n", a, b) and block.find(b"\n\r", a, b) < 0
        if not simple:  # blank lines or lone CRs: count the runs themselves
            breaks = len(_TERMINATOR_RUN.findall(block, a, b))
        count = lead + breaks - ends_with_break
        if self.rows + count > self.rows_per_chunk:
            self._many_records_begin(_begins(block, a, b, lead, simple), count)
        else:
            self.rows += count
        if ends_with_break:
            return _RECORD_START
        return _FIELD_START if last == self.delimiter else _IN_FIELD

    def _record_begins(self, position: int) -> None:
        if self.rows == self.rows_per_chunk:
            self._cut(position)
        self.rows += 1

    def _many_records_begin(self, begins: Iterator[int], count: int) -> None:
        """Like ``_record_begins`` for ``count`` positions (block-relative), stopping after the last cut."""
        size = self.rows_per_chunk
        index = size - self.rows  # the first record that no longer fits in the current chunk
        seen = 0
        while index < count:
            position = next(islice(begins, index - seen, None))
            seen = index + 1
            self.rows = size  # the records before this one filled the chunk
            self._cut(self.offset + position)
            index += size
        self.rows = count - (index - size)

    def _cut(self, position: int) -> None:
        self.ready.append(ByteRange(self.chunk_no, self.chunk_start, position, self.first_row, self.rows))
        self.chunk_no += 1
        self.chunk_start = position
        self.first_row += self.rows
        self.rows = 0


def _begins(block: bytes, a: int, b: int, lead: bool, simple: bool) -> Iterator[int]:
    """Where records begin in ``block[a:b]`` (no quotes in it); ``simple``: every break is LF or CRLF."""
    if lead:
        yield a
    if simple:
        find = block.find
        end = find(b"\n", a, b)
        while 0 <= end < b - 1:
            yield end + 1
            end = find(b"\n", end + 1, b)
    else:
        for run in _TERMINATOR_RUN.finditer(block, a, b):
            if run.end() < b:
                yield run.end()


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
