"""What a run that a restart of the local stack stranded says to its user."""

from __future__ import annotations

from infra.local.history import STRANDED, STRANDED_PREVIEW, stranded_reason


def test_a_stranded_preview_says_nothing_was_written_and_to_preview_again() -> None:
    """It said 'what was imported stays (it can be reverted): import the file again' for a preview, which
    imports nothing and whose revert answers 409."""
    assert stranded_reason({"mode": "preview", "status": "processing"}) == STRANDED_PREVIEW
    assert "preview the file again" in STRANDED_PREVIEW and "revert" not in STRANDED_PREVIEW
    assert stranded_reason({"mode": "import"}) == STRANDED == stranded_reason(None)
