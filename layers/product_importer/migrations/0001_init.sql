-- Products, the import-number sequence, the chunk ledger and row errors.

-- Every import takes a number when it is created; a row's version is (import number << 32) + row number,
-- and manual edits take (nextval << 32), so "created later wins" is one integer comparison.
CREATE SEQUENCE import_number_seq;

CREATE TABLE products (
    sku_key        text COLLATE "C" PRIMARY KEY,      -- lower(trim(sku)): identity is case-insensitive
    sku            text        NOT NULL,
    name           text        NOT NULL,
    description    text,
    price          numeric CHECK (price >= 0 AND scale(price) <= 4),
    currency       text        NOT NULL DEFAULT 'USD',
    quantity       bigint      NOT NULL DEFAULT 0 CHECK (quantity >= 0),
    active         boolean     NOT NULL DEFAULT true,
    brand          text,
    category       text,
    barcode        text,
    attributes     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    version        bigint      NOT NULL,
    last_import_id text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 85);  -- room on each page for HOT updates (re-imports rewrite every row's version)

-- SKU prefix search uses the primary key (C collation makes LIKE 'abc%' an index range scan).
-- Word search over name and description lives in its own table, refreshed off the ingest hot path
-- (see docs/benchmarks.md: a GIN index on products made imports 10x slower).
CREATE INDEX products_brand_idx ON products (lower(brand), sku_key) WHERE brand IS NOT NULL;
CREATE INDEX products_category_idx ON products (lower(category), sku_key) WHERE category IS NOT NULL;

-- Exactly-once effect: a chunk's ledger row commits in the same transaction as its writes.
CREATE TABLE chunk_ledger (
    import_id          text        NOT NULL,
    chunk_no           integer     NOT NULL,
    rows_seen          integer     NOT NULL DEFAULT 0,
    rows_imported      integer     NOT NULL DEFAULT 0,
    rows_failed        integer     NOT NULL DEFAULT 0,
    products_created   integer     NOT NULL DEFAULT 0,
    products_updated   integer     NOT NULL DEFAULT 0,
    products_unchanged integer     NOT NULL DEFAULT 0,
    committed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (import_id, chunk_no)
);

CREATE TABLE row_errors (
    id          bigserial PRIMARY KEY,
    import_id   text    NOT NULL,
    row_no      integer NOT NULL,
    sku         text,
    column_name text,
    message     text    NOT NULL,
    value       text
);
CREATE INDEX row_errors_import_row_idx ON row_errors (import_id, row_no, id);

-- Running totals per import, updated as the last statement of each chunk's transaction: the progress
-- store (DynamoDB) receives absolute snapshots of this row, so a retried or replayed chunk repairs a
-- lost progress update without ever counting twice.
CREATE TABLE import_totals (
    import_id          text PRIMARY KEY,
    chunks_done        integer NOT NULL DEFAULT 0,
    rows_processed     bigint  NOT NULL DEFAULT 0,
    rows_imported      bigint  NOT NULL DEFAULT 0,
    rows_failed        bigint  NOT NULL DEFAULT 0,
    products_created   bigint  NOT NULL DEFAULT 0,
    products_updated   bigint  NOT NULL DEFAULT 0,
    products_unchanged bigint  NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
