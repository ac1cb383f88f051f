-- A product's change records are found by its SKU key (its history, a revert's conflicts and creators, the
-- chunk's "born earlier" check) through a hash index instead of a B-tree on (sku_key, import_no). Every
-- change record adds an entry to this index, in the chunk's transaction: the hash entry (the key's 4-byte
-- hash and the row) costs less to add than a B-tree entry (the whole key, kept in order, its pages split).
-- Measured: the 500k-row insert and update passes, docs/benchmarks.md ("The history index"). Every query
-- of this index is an equality on sku_key; a product's records are few, so ordering them (by import number)
-- after the lookup is a small sort.
DROP INDEX changes_history_idx;
CREATE INDEX changes_history_idx ON changes USING hash (sku_key);
