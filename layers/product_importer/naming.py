"""Key layout in the uploads bucket (CONTRACT §4). ``infra/topology.py`` uses the same prefixes."""

UPLOAD_PREFIX = "uploads/"
DROP_PREFIX = "incoming/"


def upload_key(import_id: str) -> str:
    """Where the browser's presigned POST puts an import's file."""
    return f"{UPLOAD_PREFIX}{import_id}.csv"
