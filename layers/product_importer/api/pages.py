"""List pages that fit in one Lambda response.

In AWS every answer of the API is the return value of a Lambda invocation, which stops at 6 MB (6,291,456
bytes; API Gateway then answers 500 and the user sees nothing). The HTTP body travels inside that JSON as a
string, so it is escaped once more: quotes and backslashes double, non-ASCII characters may become
``\\uXXXX``. A page of 500 items is far below that for most lists, but not for items that carry long text
(CONTRACT §1: a description holds up to 65,535 characters and attributes 64 KiB, so 500 products, or their
changes from and to, are tens of MB). ``fit_page`` therefore ends a page early, by size, at a complete
item, and the page's ``next_cursor`` goes on after it: a caller who follows ``next_cursor`` (as CONTRACT §3
asks) gets every item, in order, on the laptop and in AWS alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic_core import to_json

LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024  # a synchronous invocation's response payload, at most
# The items of one page, as measured by ``response_bytes``: the rest is room for the envelope
# (statusCode, headers, next_cursor) and for the measure's own slack.
PAGE_BUDGET_BYTES = 4 * 1024 * 1024

# What a response's status and headers take besides its body, at most (for ``fits_lambda_response``).
ENVELOPE_BYTES = 64 * 1024

T = TypeVar("T")
C = TypeVar("C")


def response_bytes(value: Any) -> int:
    """Bytes ``value`` takes in a Lambda proxy response, at most: its JSON (the HTTP body) written again as a
    JSON string with ASCII escapes (the runtime's encoding of the body; an upper bound where the runtime
    writes UTF-8 instead). Dataclasses, models, decimals and datetimes count as the API writes them."""
    return len(json.dumps(to_json(value, fallback=str).decode()))


def fitting(items: Sequence[Any], budget: int = PAGE_BUDGET_BYTES) -> int:
    """How many of ``items``, from the first, fit in ``budget`` bytes (``response_bytes``); at least one
    (a single item is far below the limit: CONTRACT §1 bounds each field)."""
    total = 0
    for count, item in enumerate(items):
        total += response_bytes(item) + 1  # the comma between items
        if total > budget:
            return max(1, count)
    return len(items)


def fit_page(fetch: Callable[[int], tuple[list[T], C]], limit: int,
             budget: int = PAGE_BUDGET_BYTES) -> tuple[list[T], C]:
    """``fetch(limit)`` (one page of a list and the cursor after it), or, where its items are larger than
    ``budget``, ``fetch(n)`` for the largest ``n`` whose items fit: the page ends early and its cursor goes on
    after its last item. Costs a second query only for such pages."""
    items, cursor = fetch(limit)
    while (keep := fitting(items, budget)) < len(items):
        items, cursor = fetch(keep)
    return items, cursor


def fits_lambda_response(body: bytes) -> bool:
    """Whether a text ``body`` (UTF-8) fits in one Lambda response once the runtime has written it as a JSON
    string (ASCII escapes: quotes double, a Cyrillic letter's 2 bytes become 6): a 5 MB errors.csv of
    non-Latin values does not, and is better downloaded from S3 than refused (a 500)."""
    return len(json.dumps(body.decode("utf-8", "replace"))) <= LAMBDA_RESPONSE_BYTES - ENVELOPE_BYTES
