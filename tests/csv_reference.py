"""A slow, obviously correct reference of CONTRACT §1's records, byte by byte: the tests' oracle.

``reference_records(data)`` → ``[(start, end, kind)]`` with kind ``"ok"``, ``"unterminated quote"`` or
``"too long"``. The state machine is Python csv's (non-strict, doublequote); a record must end within
``max_record`` bytes of its start, else it is broken and ends with the line on which its open quote
opened (or, with no quote open at the limit, the line that crosses it). A quoted field that holds a line
break and whose closing quote is followed by text (anything but spaces before a delimiter, a line break or
the end of the data) is an unterminated quote as well (a stray quote that a later inch mark "closed").
"""

from __future__ import annotations

QUOTE, CR, LF = 0x22, 0x0D, 0x0A


def _step(state: int, c: int, delim: int) -> int:
    """One byte: 0 record start, 1 field start, 2 in field, 3 quoted, 4 quote in quoted."""
    if state == 3:
        return 4 if c == QUOTE else 3
    if state == 4:
        if c == QUOTE:
            return 3
        state = 2
    if c == QUOTE and state in (0, 1):
        return 3
    if c in (CR, LF):
        return 0
    return 1 if c == delim else 2


def reference_records(data: bytes, delimiter: str = ",", max_record: int = 1 << 20) -> list[tuple[int, int, str]]:
    delim = ord(delimiter)
    out: list[tuple[int, int, str]] = []
    pos, n = 0, len(data)
    while pos < n:
        start, state, opened, i, end, bad = pos, 0, -1, pos, None, False
        while i < n:
            c = data[i]
            before = state
            state = _step(state, c, delim)
            if state == 3 and before in (0, 1, 2) and c == QUOTE:
                opened = i
            if before == 4 and c not in (QUOTE, delim, CR, LF) and (
                    CR in data[opened:i] or LF in data[opened:i]):
                k = i  # spaces, then a delimiter or a line break: a value with spaces after it
                while k < n and data[k] == 0x20:
                    k += 1
                if k < n and data[k] not in (delim, CR, LF):
                    # within the limit (that byte at most max_record past the start); past it, the state at
                    # the limit decides, as for any record that does not end within it
                    bad = k - start <= max_record
                    break
            if state == 0 and before in (0, 1, 2, 4):  # a line break outside quotes ends the record
                end = i + 2 if c == CR and i + 1 < n and data[i + 1] == LF else i + 1
                break
            i += 1
        if bad:
            kind, origin = "unterminated quote", opened
        elif end is not None and i - start <= max_record:  # at most max_record bytes before its line break
            out.append((start, end, "ok"))
            pos = end
            continue
        elif end is None and n - start <= max_record:  # the end of the data, within the limit
            if state != 3:
                out.append((start, n, "ok"))
                pos = n
                continue
            kind, origin = "unterminated quote", opened
        else:  # the record does not end within the limit: the state at the limit decides
            mark = start + max_record
            state, opened = 0, -1
            for j in range(start, mark):
                before = state
                state = _step(state, data[j], delim)
                if state == 3 and before in (0, 1, 2) and data[j] == QUOTE:
                    opened = j
            if state == 3 or (state == 4 and mark < n and data[mark] == QUOTE):
                kind, origin = "unterminated quote", opened
            else:
                kind, origin = "too long", mark
        k = origin
        while k < n and data[k] not in (CR, LF):
            k += 1
        end = n if k >= n else k + 2 if data[k] == CR and k + 1 < n and data[k + 1] == LF else k + 1
        out.append((start, end, kind))
        pos = end
    return out
