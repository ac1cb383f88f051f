"""Key layout in the uploads bucket (CONTRACT §4). ``infra/topology.py`` uses the same prefixes."""

UPLOAD_PREFIX = "uploads/"
DROP_PREFIX = "incoming/"
