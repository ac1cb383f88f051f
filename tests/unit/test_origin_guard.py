"""The local edge's rules (infra.local.origin_guard), without servers."""

from __future__ import annotations

import pytest

from infra.local.origin_guard import OriginPolicy, is_loopback_host, ui_origins

POLICY = OriginPolicy.of(ui_origins(8000))


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1:8000", True), ("127.0.0.1", True), ("127.9.9.9:1", True), ("localhost:4566", True),
        ("LOCALHOST", True), ("uploads.localhost:4566", True), ("[::1]:8000", True), ("::1", True),
        ("evil.example", False), ("evil.example:8000", False), ("127.0.0.1.evil.example", False),
        ("10.0.0.5:8000", False), ("0.0.0.0:8000", False), ("[::ffff:10.0.0.1]:80", False), ("", False), (None, False),
        ("localhost.evil.example", False),
    ],
)
def test_only_loopback_names_are_this_machine(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_ui_origins_are_the_api_and_the_vite_dev_server() -> None:
    assert set(ui_origins(8123)) == {
        "http://127.0.0.1:8123", "http://localhost:8123", "http://127.0.0.1:5173", "http://localhost:5173"
    }


@pytest.mark.parametrize(
    ("method", "headers", "allowed"),
    [
        ("POST", {"host": "127.0.0.1:8000"}, True),  # a program
        ("POST", {"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:8000"}, True),
        ("POST", {"host": "127.0.0.1:4566", "origin": "http://localhost:5173", "sec-fetch-site": "same-site"}, True),
        ("POST", {"host": "127.0.0.1:8000", "origin": "https://evil.example"}, False),
        ("POST", {"host": "127.0.0.1:8000", "origin": "null"}, False),
        ("POST", {"host": "evil.example", "origin": "http://127.0.0.1:8000"}, False),
        ("GET", {"host": "127.0.0.1:8000", "sec-fetch-site": "same-origin"}, True),
        ("GET", {"host": "127.0.0.1:8000", "sec-fetch-site": "none"}, True),  # typed into the address bar
        ("GET", {"host": "127.0.0.1:8000", "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"}, True),
        ("POST", {"host": "127.0.0.1:8000", "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"}, False),
        ("GET", {"host": "127.0.0.1:8000", "sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors"}, False),
        ("GET", {"host": "127.0.0.1:8000", "sec-fetch-site": "same-site", "sec-fetch-mode": "cors"}, False),
    ],
)
def test_refusals(method: str, headers: dict[str, str], allowed: bool) -> None:
    assert (POLICY.refusal(method, headers) is None) is allowed


def test_the_policy_travels_to_the_emulator_in_the_environment() -> None:
    policy = OriginPolicy.from_env({"PI_LOCAL_ALLOWED_ORIGINS": "http://127.0.0.1:8000,http://localhost:8000/"})
    assert policy.allowed_origins == {"http://127.0.0.1:8000", "http://localhost:8000"}
    assert OriginPolicy.from_env({}).allowed_origins == frozenset()
