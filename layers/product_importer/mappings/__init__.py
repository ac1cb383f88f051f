"""Saved mappings (CONTRACT §1 Mapping): stored in PostgreSQL, found by header set or drop prefix."""
