"""What lives as long as the process (one warm Lambda container): built once on first use, dropped together.

``@per_container`` marks a builder (settings, boto3 clients, adapters, the database connection): the
first call builds, later calls with the same arguments reuse. Everything built this way sits in one
``Container``; ``CONTAINER.reset()`` closes and drops all of it at once (a local stack restarted in the
same process, with other endpoints, must not reuse the previous one's), so nobody has to know every cache.

A leaf module: it imports nothing from the package, so ``settings`` and ``aws`` can use it too.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, ParamSpec, TypeVar, overload

P = ParamSpec("P")
T = TypeVar("T")


class Container:
    """The values built in this process, by (builder, arguments), and how to close them."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self._closers: dict[Hashable, Callable[[Any], None]] = {}
        self._hooks: list[Callable[[], None]] = []
        self._lock = threading.RLock()  # a builder may call other builders

    def get(self, key: Hashable, build: Callable[[], T], close: Callable[[T], None] | None = None) -> T:
        with self._lock:
            if key in self._values:
                value: T = self._values[key]
                return value
            value = build()
            self._values[key] = value
            if close is not None:
                self._closers[key] = close
            return value

    def built(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._values

    def drop(self, key: Hashable) -> None:
        """Close and forget one value (the next call builds it again)."""
        with self._lock:
            value = self._values.pop(key, None)
            close = self._closers.pop(key, None)
        if close is not None:
            close(value)

    def on_reset(self, hook: Callable[[], None]) -> None:
        """Also run ``hook`` on reset (state kept outside the container, such as a resolved URL)."""
        with self._lock:
            if hook not in self._hooks:
                self._hooks.append(hook)

    def reset(self) -> None:
        """Close and drop everything built so far, in reverse order of building."""
        with self._lock:
            keys = list(self._values)
            hooks = list(self._hooks)
        for key in reversed(keys):
            self.drop(key)
        for hook in hooks:
            hook()


CONTAINER = Container()


class PerContainer(Generic[P, T]):
    """A builder whose results live in ``CONTAINER`` (one per distinct argument tuple)."""

    def __init__(self, build: Callable[P, T], close: Callable[[T], None] | None) -> None:
        self._build = build
        self._close = close
        functools.update_wrapper(self, build)

    def _key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
        return (self._build, args, tuple(sorted(kwargs.items())))

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        return CONTAINER.get(self._key(args, kwargs), lambda: self._build(*args, **kwargs), self._close)

    def built(self, *args: Any, **kwargs: Any) -> bool:
        return CONTAINER.built(self._key(args, kwargs))

    def cache_clear(self) -> None:
        """Forget this builder's values only (tests that change the environment of one setting)."""
        for key in [k for k in list(CONTAINER._values) if isinstance(k, tuple) and k and k[0] is self._build]:
            CONTAINER.drop(key)


@overload
def per_container(build: Callable[P, T]) -> PerContainer[P, T]: ...


@overload
def per_container(*, close: Callable[[T], None]) -> Callable[[Callable[P, T]], PerContainer[P, T]]: ...


def per_container(build: Callable[P, T] | None = None, *, close: Callable[[T], None] | None = None) -> Any:
    """Build once per process and reuse; ``close`` (optional) is called on the value when it is dropped."""
    if build is not None:
        return PerContainer(build, close)
    return lambda fn: PerContainer(fn, close)
