"""Key layout in the uploads bucket (CONTRACT §4). ``infra/topology.py`` uses the same prefixes."""

UPLOAD_PREFIX = "uploads/"
DROP_PREFIX = "incoming/"
EXPORT_PREFIX = "exports/"  # files the API writes for download (errors.csv over the inline limit)
TRANSCODED_PREFIX = "transcoded/"  # UTF-8 copies the splitter writes of UTF-16 files (outside the watched prefixes)


def upload_key(import_id: str) -> str:
    """Where the browser's presigned POST puts an import's file."""
    return f"{UPLOAD_PREFIX}{import_id}.csv"
