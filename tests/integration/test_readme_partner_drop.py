"""The README's partner drop on ``make up``, run as written against an S3 emulator, by a newcomer with no
AWS credentials anywhere.

The README said only "with any credentials": boto3 without any (no ``~/.aws``, no ``AWS_*`` variables, as
on a fresh laptop) raised ``NoCredentialsError: Unable to locate credentials`` before anything was sent.
Found following the README as a newcomer; this fails without the README's snippet or with one that omits
the keys.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from infra.local.net import free_port

README = Path(__file__).resolve().parents[2] / "README.md"


def _drop_snippet() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Partner systems: drops and webhooks")
    section = text[start:text.index("\n## ", start + 1)]
    blocks = [code for code in re.findall(r"```python\n(.*?)```", section, re.S) if "upload_file(" in code]
    assert blocks, "the partner section shows no drop with boto3's upload_file"
    return str(blocks[0])


def test_the_readme_drop_writes_the_file_under_incoming_without_any_configured_credentials(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        admin = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                             aws_access_key_id="admin", aws_secret_access_key="admin")
        admin.create_bucket(Bucket="product-importer-uploads")
        config = {"s3_endpoint": endpoint, "uploads_bucket": "product-importer-uploads"}

        class Answer:
            def json(self) -> dict[str, Any]:
                return config

        asked: list[str] = []

        def get(url: str, **_: Any) -> Answer:
            asked.append(url)
            return Answer()

        monkeypatch.setattr(httpx, "get", get)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                     "AWS_DEFAULT_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        monkeypatch.chdir(tmp_path)
        (tmp_path / "some.csv").write_text("sku,name\nA-1,One\n", encoding="utf-8")

        exec(compile(_drop_snippet(), str(README), "exec"), {})  # our own README

        assert asked == ["http://127.0.0.1:8000/api/config"]
        dropped = admin.get_object(Bucket="product-importer-uploads", Key="incoming/acme/some.csv")
        assert dropped["Body"].read() == b"sku,name\nA-1,One\n"
    finally:
        server.stop()
