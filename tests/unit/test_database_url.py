"""Database URL resolution: DATABASE_URL wins; in AWS the secret is re-read so rotation reaches warm containers."""

from __future__ import annotations

import json
from collections.abc import Iterator

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

    assert url == "postgresql://app:first%20p%40ss@proxy.local:5432/catalog?sslmode=require"


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
