"""PostgreSQL: where the database comes from, its schema, and the writes the pipeline makes."""
