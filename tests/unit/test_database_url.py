"""Database URL resolution: DATABASE_URL wins; in AWS the secret is re-read so rotation reaches warm containers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import boto3
import pytest
from moto import mock_aws
from product_importer.db import connection
from product_importer.settings import Settings


@pytest.fixture
def secret_arn(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(Name="db", SecretString=json.dumps(
            {"username": "app", "password": "first p@ss", "host": "writer", "port": 5432}))["ARN"]
        connection.forget_database_url()
        yield arn
        connection.forget_database_url()


def rotate(arn: str, password: str) -> None:
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(SecretId=arn, SecretString=json.dumps(
        {"username": "app", "password": password, "host": "writer", "port": 5432}))


def test_the_url_comes_from_the_secret_through_the_proxy(secret_arn: str) -> None:
    settings = Settings(db_secret_arn=secret_arn, db_proxy_endpoint="proxy.local", db_name="catalog")

    url = connection.resolve_database_url(settings)

    # TLS verified against the roots we ship, the proxy's name checked (verify-full), not just "require"
    roots = quote(connection.trusted_roots())
    assert url == f"postgresql://app:first%20p%40ss@proxy.local:5432/catalog?sslmode=verify-full&sslrootcert={roots}"


def test_the_roots_we_verify_against_hold_amazons() -> None:
    # RDS Proxy's certificate chains to Amazon Root CA 1 (ACM), a public root: no RDS CA bundle to ship
    from cryptography import x509

    with open(connection.trusted_roots(), "rb") as bundle:
        pem = bundle.read()
    subjects = {cert.subject.rfc4514_string() for cert in x509.load_pem_x509_certificates(pem)}
    assert "CN=Amazon Root CA 1,O=Amazon,C=US" in subjects


def test_a_rotated_secret_is_picked_up_after_the_ttl(secret_arn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(db_secret_arn=secret_arn, db_proxy_endpoint="proxy.local")
    first = connection.resolve_database_url(settings)
    rotate(secret_arn, "second")

    assert connection.resolve_database_url(settings) == first  # cached within the TTL
    monkeypatch.setattr(connection, "SECRET_TTL_S", 0.0)
    assert ":second@" in connection.resolve_database_url(settings)


def test_forgetting_the_url_re_reads_the_secret_at_once(secret_arn: str) -> None:
    settings = Settings(db_secret_arn=secret_arn, db_proxy_endpoint="proxy.local")
    connection.resolve_database_url(settings)
    rotate(secret_arn, "third")

    connection.forget_database_url()

    assert ":third@" in connection.resolve_database_url(settings)


def test_database_url_wins_and_is_never_re_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    connection.forget_database_url()
    settings = Settings(database_url="postgresql://u@h/db", db_secret_arn="arn:unused")
    monkeypatch.setattr(connection, "SECRET_TTL_S", 0.0)

    assert connection.resolve_database_url(settings) == "postgresql://u@h/db"
    assert connection.resolve_database_url(settings) == "postgresql://u@h/db"
    connection.forget_database_url()
