"""Webhook deliveries: Standard Webhooks signatures a receiver's library verifies, the SSRF guard with the
pinned address (DNS rebinding), the bounds of one attempt, sealed secrets, retry back-off, jobs."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import httpx
import pytest
import standardwebhooks
import trustme
from moto import mock_aws
from product_importer.settings import Settings
from product_importer.webhooks.delivery import Network, post_signed
from product_importer.webhooks.dispatch import MAX_DELAY_S, retry_delay
from product_importer.webhooks.jobs import DeliveryJob, ImportFinished, parse_job
from product_importer.webhooks.secrets import (
    KmsSecretBox,
    LocalSecretBox,
    SecretUnavailableError,
    is_sealed,
    secret_box,
)
from product_importer.webhooks.signing import InvalidSecretError, check_secret, new_secret
from product_importer.webhooks.targets import (
    UnsafeTargetError,
    check_target,
    check_url_syntax,
    resolve_target,
)

BODY = json.dumps({"id": "evt_1", "type": "import.completed", "import": {"id": "i1"}}).encode()


def mock_network(handler: Any, resolver: Any = None) -> Network:
    return Network(
        resolver=resolver or (lambda host, port: ["93.184.216.34"]), transport=httpx.MockTransport(handler)
    )


def deliver(url: str, network: Network, *, secret: str | None = "whsec_" + "A" * 44, timeout_s: float = 5,
            allow_private: bool = False, delivery_id: str = "evt_1") -> Any:
    return post_signed(url, BODY, secret=secret, event="import.completed", delivery_id=delivery_id,
                       timeout_s=timeout_s, allow_private=allow_private, network=network)


# -- Standard Webhooks ------------------------------------------------------------------------------------

def test_a_receiver_using_the_standardwebhooks_library_verifies_our_delivery() -> None:
    # given a webhook secret we generated, and a receiver that records the request
    secret = new_secret()
    seen: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    # when one event is delivered
    outcome = deliver("https://hooks.example.com/in", mock_network(receive), secret=secret)

    # then the library a receiver would use accepts it and hands back the payload
    [request] = seen
    assert outcome.ok and outcome.status_code == 204 and outcome.error is None
    payload = standardwebhooks.Webhook(secret).verify(request.content, dict(request.headers))
    assert payload == json.loads(BODY)
    assert request.headers["webhook-id"] == "evt_1"
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 5
    assert request.headers["webhook-signature"].startswith("v1,")
    # and anything else is refused by it: another secret, a changed body
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(new_secret()).verify(request.content, dict(request.headers))
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret).verify(request.content + b" ", dict(request.headers))


def test_generated_secrets_are_whsec_and_random() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
        assert check_secret(secret) == secret


@pytest.mark.parametrize("secret", ["s3cret", "whsec_", "whsec_not base64!", "whsec_" + base64.b64encode(b"x" * 8).decode(),
                                    "whsec_" + base64.b64encode(b"x" * 65).decode()])
def test_a_given_secret_must_be_a_standard_webhooks_secret(secret: str) -> None:
    with pytest.raises(InvalidSecretError):
        check_secret(secret)


# -- the checked address is the one connected to ------------------------------------------------------------

class RebindingResolver:
    """Answers a public address the first time and a private one after that (DNS rebinding)."""

    def __init__(self, first: str = "93.184.216.34", then: str = "127.0.0.1") -> None:
        self.answers = [first, then]
        self.calls = 0

    def __call__(self, host: str, port: int) -> list[str]:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return [answer]


def test_dns_rebinding_cannot_redirect_the_connection() -> None:
    # given a name that resolves to a public address at the check and to loopback right after
    resolver = RebindingResolver()
    seen: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    # when an event is delivered
    outcome = deliver("https://hooks.example.com:8443/in?x=1", mock_network(receive, resolver))

    # then the name was resolved once, and the connection went to the address that was checked, with the
    # URL's name as Host header and as TLS server name: nothing resolved the name a second time
    assert outcome.ok
    assert resolver.calls == 1
    [request] = seen
    assert request.url.host == "93.184.216.34" and request.url.port == 8443
    assert request.url.path == "/in" and request.url.query == b"x=1"
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"


def test_a_name_resolving_to_any_private_address_is_refused_before_connecting() -> None:
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("contacted a refused target")

    for answers in (["127.0.0.1"], ["93.184.216.34", "10.0.0.5"], ["169.254.169.254"], ["::1"], ["fd00::1"]):
        outcome = deliver("https://hooks.example.com/", mock_network(never, lambda h, p, a=answers: a))
        assert not outcome.ok and outcome.error is not None and outcome.error.startswith("refused")


class Receiver:
    """A real HTTP(S) server on 127.0.0.1 that records requests; ``behaviour`` decides the answer."""

    def __init__(self, behaviour: str = "ok", tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.requests.append((self.path, dict(self.headers.items()), body))
                if behaviour == "ok":
                    self._answer(200, b"thanks")
                elif behaviour == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif behaviour == "drip":  # headers arrive, then one byte every 100 ms, for ever
                    self.send_response(200)
                    self.send_header("Content-Length", "1000000")
                    self.end_headers()
                    try:
                        for _ in range(600):
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(0.1)
                    except OSError:
                        pass
                elif behaviour == "huge":  # a 200 with a 50 MB body
                    self.send_response(200)
                    self.send_header("Content-Length", str(50 * 1024 * 1024))
                    self.end_headers()
                    chunk = b"y" * 65536
                    try:
                        for _ in range(800):
                            self.wfile.write(chunk)
                    except OSError:
                        pass
                elif behaviour == "silent":  # reads the request and never answers
                    time.sleep(30)

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    r = Receiver(getattr(request, "param", "ok"))
    yield r
    r.close()


def test_a_real_connection_goes_to_the_pinned_address_with_the_original_host(receiver: Receiver) -> None:
    # given a name that only our resolver knows (the system resolver cannot find it), pinned to 127.0.0.1
    assert_unresolvable("hooks.invalid")
    network = Network(resolver=lambda host, port: ["127.0.0.1"])
    # when an event is delivered to it (private targets allowed, as in local mode)
    outcome = deliver(f"http://hooks.invalid:{receiver.port}/in", network, allow_private=True)
    # then the request reached the pinned address, naming the host it was meant for
    assert outcome.ok, outcome.error
    [(path, headers, body)] = receiver.requests
    assert path == "/in" and body == BODY and headers["Host"] == f"hooks.invalid:{receiver.port}"


def test_tls_is_verified_against_the_url_host_not_the_pinned_address() -> None:
    # given an HTTPS receiver on 127.0.0.1 whose certificate names only hooks.invalid
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.invalid").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    tls_receiver = Receiver("ok", tls=server_context)
    try:
        pinned = Network(resolver=lambda host, port: ["127.0.0.1"], verify=client_context)
        # when we deliver to https://hooks.invalid (pinned to 127.0.0.1), the handshake succeeds: SNI and
        # the certificate check used the name
        ok = deliver(f"https://hooks.invalid:{tls_receiver.port}/", pinned, allow_private=True)
        assert ok.ok, ok.error
        # and a name the certificate does not carry fails the check, though the address is the same
        other = deliver(f"https://other.invalid:{tls_receiver.port}/", pinned, allow_private=True)
        assert not other.ok and other.error is not None and "certificate" in other.error.lower()
    finally:
        tls_receiver.close()


def assert_unresolvable(name: str) -> None:
    with pytest.raises(OSError):
        socket.getaddrinfo(name, 80)


@pytest.mark.parametrize("receiver", ["redirect"], indirect=True)
def test_redirects_are_refused_not_followed(receiver: Receiver) -> None:
    network = Network(resolver=lambda host, port: ["127.0.0.1"])
    outcome = deliver(f"http://hooks.invalid:{receiver.port}/", network, allow_private=True)
    assert not outcome.ok and outcome.status_code == 302
    assert outcome.error is not None and "redirects are not followed" in outcome.error
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("receiver", ["drip", "silent"], indirect=True)
def test_an_attempt_ends_after_its_total_time_however_the_server_drips(receiver: Receiver) -> None:
    # given a receiver that trickles its answer (or never answers); each read alone would be quick enough
    network = Network(resolver=lambda host, port: ["127.0.0.1"])
    started = time.monotonic()
    outcome = deliver(f"http://hooks.invalid:{receiver.port}/", network, allow_private=True, timeout_s=1.0)
    elapsed = time.monotonic() - started
    # then the whole attempt ended at its bound
    assert not outcome.ok and outcome.error is not None and "timed out" in outcome.error
    assert elapsed < 2.0


@pytest.mark.parametrize("receiver", ["huge"], indirect=True)
def test_at_most_a_bounded_answer_is_read(receiver: Receiver) -> None:
    network = Network(resolver=lambda host, port: ["127.0.0.1"], max_response_bytes=4096)
    started = time.monotonic()
    outcome = deliver(f"http://hooks.invalid:{receiver.port}/", network, allow_private=True, timeout_s=10)
    assert outcome.ok and time.monotonic() - started < 3


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "ftp://example.com/",
        "http://user:pw@example.com/",
        "https:///nohost",
        # urlsplit itself refuses these (they were a 500 on POST /api/webhooks)
        "http://[::1:9177/",
        "http://[xyz]/hook",
        "http://a\u2100b.com/",
        # hosts no resolver can look up (they were saved, then failed at every delivery)
        "http://exa mple.com/",
        "http://a..b.com/",
        "http://" + "a" * 64 + ".com/",
        # the HTTP client refuses control characters at each attempt (POST /api/webhooks/{id}/test was a 500)
        "http://example.com/a\x01b",
        "http://example.com/a\x7fb",
        "http://example.com:0/",
    ],
)
def test_private_and_malformed_targets_are_refused(url: str) -> None:
    with pytest.raises(UnsafeTargetError):
        check_url_syntax(url, allow_private=False)
    with pytest.raises(UnsafeTargetError):
        check_target(url, allow_private=False, resolver=lambda h, p: ["93.184.216.34"])


def test_private_targets_are_allowed_when_settings_say_so() -> None:
    assert check_url_syntax("http://127.0.0.1:9000/hook", allow_private=True) == "127.0.0.1"
    pinned = resolve_target("http://127.0.0.1:9000/hook", allow_private=True)
    assert pinned.address == "127.0.0.1" and pinned.connect_url == "http://127.0.0.1:9000/hook"


def test_ipv6_targets_are_pinned_in_brackets() -> None:
    pinned = resolve_target("https://hooks.example.com/x", allow_private=False,
                            resolver=lambda h, p: ["2606:2800:220:1:248:1893:25c8:1946"])
    assert pinned.connect_url == "https://[2606:2800:220:1:248:1893:25c8:1946]:443/x"
    assert pinned.host_header == "hooks.example.com"


# -- sealed secrets ------------------------------------------------------------------------------------------

def test_the_local_box_seals_bound_to_the_webhook() -> None:
    box = LocalSecretBox(b"k" * 32)
    secret = new_secret()
    sealed = box.seal(secret, webhook_id="wh1")
    assert is_sealed(sealed) and secret not in sealed and secret[6:] not in sealed
    assert box.open(sealed, webhook_id="wh1") == secret
    with pytest.raises(SecretUnavailableError):
        box.open(sealed, webhook_id="wh2")  # copied onto another webhook's row
    with pytest.raises(SecretUnavailableError):
        LocalSecretBox(b"z" * 32).open(sealed, webhook_id="wh1")  # another key
    assert box.open("legacy plaintext", webhook_id="wh1") == "legacy plaintext"


def test_the_kms_box_seals_with_the_key_and_the_webhook_as_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        kms = boto3.client("kms", region_name="eu-west-1")
        key_id = kms.create_key(Description="webhook secrets")["KeyMetadata"]["KeyId"]
        box = KmsSecretBox(kms, key_id)
        secret = new_secret()
        sealed = box.seal(secret, webhook_id="wh1")
        assert sealed.startswith("kms:v1:") and secret not in sealed
        assert box.open(sealed, webhook_id="wh1") == secret
        with pytest.raises(SecretUnavailableError):
            box.open(sealed, webhook_id="wh2")


def test_local_mode_makes_its_key_once(tmp_path: Any) -> None:
    settings = Settings(local_mode=True, local_dir=tmp_path)
    sealed = secret_box(settings).seal("whsec_x", webhook_id="w")
    assert secret_box(settings).open(sealed, webhook_id="w") == "whsec_x"  # the same key, read back
    assert (tmp_path / "webhook-secrets.key").stat().st_mode & 0o777 == 0o600
    with pytest.raises(RuntimeError):
        secret_box(Settings(local_mode=False))  # in AWS: KMS or an explicit key, never a silent default


# -- retries and jobs ----------------------------------------------------------------------------------------

def test_retry_delays_grow_and_are_capped() -> None:
    delays = [retry_delay(n, 10, jitter=lambda: 0.5) for n in range(1, 10)]
    assert delays == [10, 40, 160, 640, 2560, 10240, MAX_DELAY_S, MAX_DELAY_S, MAX_DELAY_S]
    assert retry_delay(8, 10, jitter=lambda: 1.0) == MAX_DELAY_S == 36_000  # the cap holds after the jitter
    assert retry_delay(1, 0.1, jitter=lambda: 0.0) == 1  # never zero


def test_jobs_round_trip() -> None:
    finished = parse_job(
        json.dumps(
            {
                "kind": "import.finished",
                "import": {
                    "id": "i",
                    "filename": "f.csv",
                    "source": "upload",
                    "status": "completed",
                    "created_at": "t",
                },
            }
        )
    )
    assert isinstance(finished, ImportFinished) and finished.import_.id == "i"
    assert isinstance(parse_job('{"kind": "delivery", "event_id": "e", "webhook_id": "w"}'), DeliveryJob)


@pytest.mark.parametrize(
    ("local_mode", "variable", "allowed"),
    [(False, None, False), (True, None, True), (True, "false", False), (False, "true", True), (True, "true", True)],
)
def test_webhooks_allow_private_decides_when_set_and_local_mode_when_not(
    monkeypatch: pytest.MonkeyPatch, local_mode: bool, variable: str | None, allowed: bool
) -> None:
    """CONTRACT §6: private targets are refused unless WEBHOOKS_ALLOW_PRIVATE is set (false in local mode
    used to be ignored)."""
    from product_importer.settings import Settings

    monkeypatch.setenv("LOCAL_MODE", "true" if local_mode else "false")
    if variable is None:
        monkeypatch.delenv("WEBHOOKS_ALLOW_PRIVATE", raising=False)
    else:
        monkeypatch.setenv("WEBHOOKS_ALLOW_PRIVATE", variable)
    settings = Settings()  # type: ignore[call-arg]
    assert settings.private_webhooks_allowed is allowed


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f000001", "017700000001", "10.1", "0xa9fea9fe"])
def test_loopback_and_private_addresses_in_every_spelling_are_refused_at_registration(host: str) -> None:
    """127.0.0.1 was refused, but 127.1 and 2130706433 (the same address to a resolver) were registered and
    only refused at each delivery, which retried the refusal five times."""
    from product_importer.webhooks.targets import UnsafeTargetError, check_url_syntax

    with pytest.raises(UnsafeTargetError, match="not a public address"):
        check_url_syntax(f"http://{host}:8080/hook", allow_private=False)
    assert check_url_syntax("https://8.8.8.8/hook", allow_private=False) == "8.8.8.8"
    assert check_url_syntax("https://0xcafe.example.com/hook", allow_private=False) == "0xcafe.example.com"


def test_an_internationalised_host_is_delivered_to_in_its_idna_form() -> None:
    """``https://bücher.example/`` was saved, then every attempt raised UnicodeEncodeError writing the Host
    header: POST /api/webhooks/{id}/test answered 500 and each delivery crashed the function (no log entry,
    the event lost to the dead-letter queue). The name is now used as DNS and TLS know it."""
    seen: list[httpx.Request] = []
    asked: list[str] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["93.184.216.34"]

    outcome = deliver("https://Bücher.example:8443/in", mock_network(receive, resolver))

    [request] = seen
    assert outcome.ok, outcome
    assert request.headers["host"] == "xn--bcher-kva.example:8443"
    assert request.extensions["sni_hostname"] == "xn--bcher-kva.example"
    assert asked == ["xn--bcher-kva.example"]
    assert check_url_syntax("http://ｌｏｃａｌｈｏｓｔ/x", allow_private=True) == "localhost"
    with pytest.raises(UnsafeTargetError, match="loopback"):  # the same name as a resolver reads it
        check_url_syntax("http://ｌｏｃａｌｈｏｓｔ/x", allow_private=False)


def test_a_url_saved_before_it_was_refused_is_a_failed_attempt_not_a_crash() -> None:
    """A webhook saved with a control character in its URL made every attempt raise httpx.InvalidURL:
    the delivery function crashed (no log entry) and /test answered 500."""
    outcome = deliver("http://example.com/a\x01b", mock_network(lambda request: httpx.Response(200)))

    assert not outcome.ok and outcome.error.startswith("refused: the URL contains a control character")
