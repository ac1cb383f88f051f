"""The banner ``make up`` prints names a CLI command that reaches *this* stack.

On another port (``make up UP_ARGS="--port 8100 ..."``, as the README shows for a second stack) it
said ``product-importer import some.csv``: the CLI's default is http://127.0.0.1:8000, so that command
imported into whatever stack answered there, or failed to connect. It now carries ``--api``.
"""

from __future__ import annotations

from pathlib import Path

from product_importer import cli

from infra.local.__main__ import banner
from infra.local.stack import LocalConfig


def _built(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("<!doctype html>")
    return tmp_path


def test_on_another_port_the_import_command_points_the_cli_at_this_stack(tmp_path: Path) -> None:
    text = banner(LocalConfig(api_port=9500, aws_port=9566, ws_port=9501, static_dir=_built(tmp_path)))

    assert "http://127.0.0.1:9500" in text
    assert ".venv/bin/product-importer --api http://127.0.0.1:9500 import some.csv" in text
    assert "make ui" not in text


def test_on_the_default_port_the_command_stays_short(tmp_path: Path) -> None:
    text = banner(LocalConfig(static_dir=_built(tmp_path)))

    assert ".venv/bin/product-importer import some.csv" in text
    assert "--api" not in text
    # the short command is right only because the CLI's own default is this very address
    assert 'os.environ.get("PRODUCT_IMPORTER_API", "http://127.0.0.1:8000")' in Path(cli.__file__).read_text()


def test_an_unbuilt_ui_is_still_announced(tmp_path: Path) -> None:
    assert "run `make ui`" in banner(LocalConfig(static_dir=tmp_path / "dist"))
