"""SSRF guard: a webhook may only reach public hosts, unless settings allow private ones (local mode).

Checked when a webhook is saved (scheme, literal addresses, ``localhost``) and again right before every
delivery, against every address the host name resolves to (DNS may have changed since). Redirects are
never followed, so a public URL cannot bounce a delivery into the private network.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("http", "https")


class UnsafeTargetError(ValueError):
    """The URL is not a public http(s) endpoint."""


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
    """The host of a well-formed http(s) URL; literal private addresses refused unless allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ALLOWED_SCHEMES:
        raise UnsafeTargetError("the URL must start with http:// or https://")
    host = parts.hostname
    if not host:
        raise UnsafeTargetError("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeTargetError("credentials in the URL are not allowed; use the secret to authenticate")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise UnsafeTargetError("the URL has an invalid port") from exc
    if allow_private:
        return host
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        raise UnsafeTargetError("loopback targets are not allowed")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return host
    if _is_private(literal):
        raise UnsafeTargetError(f"{host} is not a public address")
    return host


def check_target(url: str, *, allow_private: bool) -> None:
    """Refuse the URL if its host resolves to any non-public address (unless allowed)."""
    host = check_url_syntax(url, allow_private=allow_private)
    if allow_private:
        return
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeTargetError(f"cannot resolve {host}") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if _is_private(address):
            raise UnsafeTargetError(f"{host} resolves to a non-public address ({address})")
