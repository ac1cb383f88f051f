"""SSRF guard: a webhook may only reach public hosts, unless settings allow private ones (local mode).

Checked when a webhook is saved (scheme, literal addresses, ``localhost``) and again for every delivery:
``resolve_target`` resolves the host name *once*, refuses it if any address it resolves to is not
public, and returns the address the delivery then connects to (``PinnedTarget``). The HTTP client never
resolves the name again, so a DNS answer that changes between the check and the connection (DNS
rebinding) cannot send a delivery into the private network. Redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import idna

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

# host, port -> the addresses it resolves to (the real one asks the system resolver; tests pass their own)
Resolver = Callable[[str, int], list[str]]


class UnsafeTargetError(ValueError):
    """The URL is not a public http(s) endpoint."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTargetError(f"cannot resolve {host}") from exc
    return [str(info[4][0]).split("%")[0] for info in infos]


def _is_private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_url_syntax(url: str, *, allow_private: bool) -> str:
    """The host of a well-formed http(s) URL, in ASCII (``ascii_host``); literal private addresses refused
    unless allowed.

    Raises ``UnsafeTargetError`` (the API's 422 on ``url``) for anything else, also for a URL ``urlsplit``
    itself refuses (``http://[::1:80/``, a host that changes under NFKC), a control character anywhere
    (the HTTP client refuses it), port 0, and a host no resolver could look up (a space, an empty label
    ``a..b``, a label over 63 characters): such a webhook would only fail at every delivery."""
    if any(unicodedata.category(char) == "Cc" for char in url):  # httpx refuses them at each attempt
        raise UnsafeTargetError("the URL contains a control character; percent-encode it")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:  # an unbalanced or invalid [IPv6] literal, characters NFKC changes
        raise UnsafeTargetError(f"the URL is not well-formed: {exc}") from None
    if parts.scheme not in ALLOWED_SCHEMES:
        raise UnsafeTargetError("the URL must start with http:// or https://")
    if not host:
        raise UnsafeTargetError("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeTargetError("credentials in the URL are not allowed; use the secret to authenticate")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise UnsafeTargetError("the URL has an invalid port") from exc
    if parts.port == 0:
        raise UnsafeTargetError("the URL has an invalid port")
    if _address_or_none(host) is None:
        name = ascii_host(host)
        if name is None:
            raise UnsafeTargetError(f"the URL's host is not a valid host name: {host}")
        host = name  # the checks below and the delivery see the name as DNS does (ｌｏｃａｌｈｏｓｔ is localhost)
    if allow_private:
        return host
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        raise UnsafeTargetError("loopback targets are not allowed")
    literal = _literal_address(host)
    if literal is not None and _is_private(literal):
        raise UnsafeTargetError(f"{host} is not a public address")
    return host


_LABEL = re.compile(r"[a-z0-9_-]{1,63}")


def ascii_host(host: str) -> str | None:
    """The name as DNS, the ``Host`` header and TLS SNI carry it (an internationalised name in IDNA 2008
    form, ``bücher.example`` → ``xn--bcher-kva.example``, as HTTP clients encode it), or None if no resolver
    could look it up: labels of letters, digits, ``-`` and ``_``, 1-63 characters each."""
    if host.isascii():
        name = host.lower()
    else:
        try:
            name = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):  # a space, an empty label, a character IDNA refuses
            return None
    labels = name.removesuffix(".").split(".")
    return name if all(_LABEL.fullmatch(label) for label in labels) else None


def _address_or_none(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host written as one stands for, also in the IPv4 spellings resolvers accept
    (``127.1``, ``2130706433``, ``0x7f000001``, ``017700000001``): they passed registration as names and
    were refused only at delivery."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if re.fullmatch(r"[0-9][0-9a-fA-FxX.]*", host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


@dataclass(frozen=True)
class PinnedTarget:
    """Where one delivery goes: the checked address, and the name the server knows itself by."""

    url: str
    host: str  # the URL's host name: Host header, TLS SNI and certificate name
    port: int
    address: str  # the one address the delivery connects to

    @property
    def https(self) -> bool:
        return self.url.startswith("https:")

    @property
    def connect_url(self) -> str:
        """The URL with the host replaced by the pinned address (the port always explicit)."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if ":" in self.address else self.address
        return urlunsplit((parts.scheme, f"{literal}:{self.port}", parts.path or "/", parts.query, ""))

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = DEFAULT_PORTS["https" if self.https else "http"]
        return name if self.port == default else f"{name}:{self.port}"


def resolve_target(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> PinnedTarget:
    """Resolve once, refuse any non-public answer (unless allowed), and pin the first address."""
    host = check_url_syntax(url, allow_private=allow_private)
    parts = urlsplit(url)
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    try:
        literal = ipaddress.ip_address(host)
        addresses = [str(literal)]
    except ValueError:
        addresses = resolver(host, port)
    if not addresses:
        raise UnsafeTargetError(f"cannot resolve {host}")
    checked = []
    for text in addresses:
        try:
            address = ipaddress.ip_address(text)
        except ValueError as exc:
            raise UnsafeTargetError(f"{host} resolves to something that is not an address") from exc
        if not allow_private and _is_private(address):
            raise UnsafeTargetError(f"{host} resolves to a non-public address ({address})")
        checked.append(str(address))
    return PinnedTarget(url=url, host=host, port=port, address=checked[0])


def check_target(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> None:
    """Refuse the URL if its host resolves to any non-public address (unless allowed)."""
    resolve_target(url, allow_private=allow_private, resolver=resolver)
