-- A preview's chunks lock the SKUs they compare, one row per (preview, SKU): chunks with different SKUs
-- run side by side, and two chunks holding one SKU take turns, so the later one reads the earlier one's
-- overlay (docs/changes-and-undo.md "Preview"). Before this, a preview's chunks took turns on one
-- advisory lock per preview. Rows go with the overlay when the preview finishes or is discarded.
CREATE TABLE preview_locks (
    import_no bigint           NOT NULL,
    sku_key   text COLLATE "C" NOT NULL,
    PRIMARY KEY (import_no, sku_key)
);
