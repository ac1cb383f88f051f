-- Every delete-all, for the product histories (CONTRACT §3 /products/{sku}/history: the history forgets
-- nothing). catalog_watermark keeps only the newest one, which is all the chunks need; a product's history
-- showed only that one, and an earlier delete-all vanished from it.
CREATE TABLE catalog_deletions (
    import_no bigint      PRIMARY KEY,  -- the number the delete-all took (its watermark is version_base of it)
    at        timestamptz NOT NULL
);
INSERT INTO catalog_deletions (import_no, at) SELECT version >> 32, at FROM catalog_watermark WHERE version > 0;
