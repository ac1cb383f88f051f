-- Per-field versions, tombstones, the import registry, change records, previews and undo data
-- (docs/changes-and-undo.md). Applies on top of 0001-0003 with data in place: every new column of
-- products is NULL or has a constant default (no table rewrite), and NULL versions mean "the row's
-- version", which is exactly what a row written before this migration carries.

-- ---- products: one version per field ------------------------------------------------------------
-- A field's version is coalesce(v_<field>, version): the hot path writes NULL for the fields a newer row
-- sets (free in storage) and materialises the old version only for the fields the row does not set.
-- v_name covers sku (display), name and existence (deleted): every import row sets all three.
-- Attribute keys: attr_versions holds explicit versions; a key in attributes without an entry has
-- coalesce(v_attributes, version); a key in neither has attr_floor (the last reset: a delete or a PUT).
-- version stays the maximum of every field's version, so "row newer than every field" is one comparison.
ALTER TABLE products
    ADD COLUMN deleted       boolean NOT NULL DEFAULT false,  -- a tombstone: filtered out of every read
    ADD COLUMN v_name        bigint,
    ADD COLUMN v_description bigint,
    ADD COLUMN v_price       bigint,
    ADD COLUMN v_currency    bigint,
    ADD COLUMN v_quantity    bigint,
    ADD COLUMN v_active      bigint,
    ADD COLUMN v_brand       bigint,
    ADD COLUMN v_category    bigint,
    ADD COLUMN v_barcode     bigint,
    ADD COLUMN v_attributes  bigint,
    ADD COLUMN attr_versions jsonb,
    ADD COLUMN attr_floor    bigint NOT NULL DEFAULT 0,
    ADD COLUMN created_by_no bigint;  -- the import number that created the product (replace scope partner)

-- ---- import registry: what PostgreSQL knows of each import ---------------------------------------
CREATE TABLE import_registry (
    import_id            text PRIMARY KEY,
    import_no            bigint      NOT NULL UNIQUE,
    mode                 text        NOT NULL DEFAULT 'import' CHECK (mode IN ('import', 'preview')),
    status               text        NOT NULL DEFAULT 'processing',
    partner              text,
    replace_scope        text CHECK (replace_scope IN ('all', 'partner')),
    preview_of           text,
    error                text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    undo_day             date        NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')::date,
    finished_at          timestamptz,
    undo_expired         boolean     NOT NULL DEFAULT false,
    -- revert (CONTRACT §2): the state of the revert of this import, its plan and running counts
    revert_state         text CHECK (revert_state IN ('running', 'done', 'failed')),
    status_before_revert text,
    revert_requested_at  timestamptz,
    reverted_at          timestamptz,
    revert_chunks_total  integer,
    revert_chunks_done   integer     NOT NULL DEFAULT 0,
    revert_restored      bigint      NOT NULL DEFAULT 0,
    revert_deleted       bigint      NOT NULL DEFAULT 0,
    revert_conflicts     bigint      NOT NULL DEFAULT 0
);
CREATE INDEX import_registry_partner_idx ON import_registry (partner, import_no) WHERE partner IS NOT NULL;

ALTER TABLE import_totals
    ADD COLUMN rows_skipped         bigint NOT NULL DEFAULT 0,
    ADD COLUMN products_deactivated bigint NOT NULL DEFAULT 0,
    ADD COLUMN errors_stored        bigint NOT NULL DEFAULT 0;
ALTER TABLE chunk_ledger ADD COLUMN rows_skipped integer NOT NULL DEFAULT 0;
-- Imports that had totals before this migration: their stored row errors count against the cap.
UPDATE import_totals t SET errors_stored = (SELECT count(*) FROM row_errors e WHERE e.import_id = t.import_id);

-- ---- delete-all: one watermark version for the whole catalog --------------------------------------
-- Rows older than the watermark write nothing (they were deleted, in creation order).
CREATE TABLE catalog_watermark (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    version bigint      NOT NULL DEFAULT 0,
    at      timestamptz NOT NULL DEFAULT now()
);
INSERT INTO catalog_watermark (id, version) VALUES (true, 0);

-- ---- change records: one per (import or edit, product), kept for good ----------------------------
-- action: c create, u update, n unchanged, d deactivate (replace), x delete (an edit).
-- changes: {"<field>": [from, to], "attributes": {"<key>": [from, to]}} for the changed fields only.
-- action_was: the action before the last merge (so a chunk can adjust the counts it derives).
CREATE TABLE changes (
    import_no  bigint           NOT NULL,
    sku_key    text COLLATE "C" NOT NULL,
    action     "char"           NOT NULL,
    action_was "char",
    sku        text,                 -- the SKU as displayed, kept by previews (an import's is in products)
    changes    jsonb,
    at         timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (import_no, sku_key)
);
CREATE INDEX changes_history_idx ON changes (sku_key, import_no);

-- SKUs of an import's failed rows (a replace counts them as in the file).
CREATE TABLE failed_skus (
    import_no bigint           NOT NULL,
    sku_key   text COLLATE "C" NOT NULL,
    PRIMARY KEY (import_no, sku_key)
);

-- ---- previews: the state a preview's rows would have written, so its later chunks overlay it -------
CREATE TABLE preview_products (
    import_no      bigint           NOT NULL,
    sku_key        text COLLATE "C" NOT NULL,
    sku            text             NOT NULL,
    name           text             NOT NULL,
    description    text,
    price          numeric,
    currency       text             NOT NULL,
    quantity       bigint           NOT NULL,
    active         boolean          NOT NULL,
    brand          text,
    category       text,
    barcode        text,
    attributes     jsonb            NOT NULL,
    version        bigint           NOT NULL,
    deleted        boolean          NOT NULL,
    v_name         bigint,
    v_description  bigint,
    v_price        bigint,
    v_currency     bigint,
    v_quantity     bigint,
    v_active       bigint,
    v_brand        bigint,
    v_category     bigint,
    v_barcode      bigint,
    v_attributes   bigint,
    attr_versions  jsonb,
    attr_floor     bigint           NOT NULL,
    PRIMARY KEY (import_no, sku_key)
);

-- ---- undo data: kept UNDO_RETENTION_DAYS, in day partitions (purge_undo drops them) ----------------
-- undo: the product as it was before an import's first touch (only where a product row existed), every
-- column with its versions. undo_lost: an import's row that lost fields to a newer version (processed
-- after it), kept so that reverting the newer one brings those values back. day = the import's
-- registration day (UTC), so all undo data of one import lives in one partition.
CREATE TABLE undo (
    day            date             NOT NULL,
    import_no      bigint           NOT NULL,
    sku_key        text COLLATE "C" NOT NULL,
    sku            text             NOT NULL,
    name           text             NOT NULL,
    description    text,
    price          numeric,
    currency       text             NOT NULL,
    quantity       bigint           NOT NULL,
    active         boolean          NOT NULL,
    brand          text,
    category       text,
    barcode        text,
    attributes     jsonb            NOT NULL,
    version        bigint           NOT NULL,
    deleted        boolean          NOT NULL,
    v_name         bigint,
    v_description  bigint,
    v_price        bigint,
    v_currency     bigint,
    v_quantity     bigint,
    v_active       bigint,
    v_brand        bigint,
    v_category     bigint,
    v_barcode      bigint,
    v_attributes   bigint,
    attr_versions  jsonb,
    attr_floor     bigint           NOT NULL,
    last_import_id text,
    created_by_no  bigint,
    updated_at     timestamptz,
    PRIMARY KEY (sku_key, import_no, day)
) PARTITION BY RANGE (day);

CREATE TABLE undo_lost (
    day         date             NOT NULL,
    import_no   bigint           NOT NULL,
    sku_key     text COLLATE "C" NOT NULL,
    version     bigint           NOT NULL,
    present     integer          NOT NULL,  -- bit mask of the fields the row sets (db/fields.py FIELD_BITS)
    sku         text             NOT NULL,
    name        text             NOT NULL,
    description text,
    price       numeric,
    currency    text,
    quantity    bigint,
    active      boolean,
    brand       text,
    category    text,
    barcode     text,
    attributes  jsonb,
    PRIMARY KEY (sku_key, import_no, day)
) PARTITION BY RANGE (day);

-- ---- revert: its plan (SKU ranges), ledger (exactly once) and conflicts --------------------------
CREATE TABLE revert_plan (
    import_no bigint  NOT NULL,
    chunk_no  integer NOT NULL,
    first_key text COLLATE "C" NOT NULL,
    last_key  text COLLATE "C" NOT NULL,
    PRIMARY KEY (import_no, chunk_no)
);
CREATE TABLE revert_ledger (
    import_no    bigint      NOT NULL,
    chunk_no     integer     NOT NULL,
    restored     integer     NOT NULL DEFAULT 0,
    deleted      integer     NOT NULL DEFAULT 0,
    conflicts    integer     NOT NULL DEFAULT 0,
    committed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (import_no, chunk_no)
);
CREATE TABLE revert_conflicts (
    import_no     bigint           NOT NULL,
    sku_key       text COLLATE "C" NOT NULL,
    changed_by_no bigint,            -- the import or edit number whose write was kept; NULL: delete-all
    at            timestamptz,
    PRIMARY KEY (import_no, sku_key)
);

-- ---- functions used by the chunk statements ------------------------------------------------------

-- The attributes after a row: every key the row has wins where its version is older than the row.
-- fast: the row is newer than every field of the product (its keys all win; the default version moves
-- to the row's, so keys it does not set get their old version written down).
CREATE FUNCTION pi_attrs_apply(
    o_attrs jsonb, o_av jsonb, o_default bigint, o_floor bigint, s_attrs jsonb, sv bigint, fast boolean,
    OUT attributes jsonb, OUT attr_versions jsonb, OUT changed jsonb
) LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    k text;
    val jsonb;
    ov bigint;
BEGIN
    attributes := coalesce(o_attrs, '{}'::jsonb);
    attr_versions := coalesce(o_av, '{}'::jsonb);
    changed := '{}'::jsonb;
    IF fast THEN
        FOR k IN SELECT jsonb_object_keys(attributes) LOOP
            IF NOT s_attrs ? k AND NOT attr_versions ? k THEN
                attr_versions := attr_versions || jsonb_build_object(k, o_default);
            END IF;
        END LOOP;
        FOR k, val IN SELECT * FROM jsonb_each(s_attrs) LOOP
            attr_versions := attr_versions - k;
            IF (attributes -> k) IS DISTINCT FROM val THEN
                changed := changed || jsonb_build_object(k, jsonb_build_array(attributes -> k, val));
            END IF;
        END LOOP;
        attributes := attributes || s_attrs;
    ELSE
        FOR k, val IN SELECT * FROM jsonb_each(s_attrs) LOOP
            ov := coalesce((attr_versions ->> k)::bigint, CASE WHEN attributes ? k THEN o_default ELSE o_floor END);
            IF ov < sv THEN
                IF (attributes -> k) IS DISTINCT FROM val THEN
                    changed := changed || jsonb_build_object(k, jsonb_build_array(attributes -> k, val));
                END IF;
                attributes := attributes || jsonb_build_object(k, val);
                attr_versions := attr_versions || jsonb_build_object(k, sv);
            END IF;
        END LOOP;
    END IF;
    IF attr_versions = '{}'::jsonb THEN
        attr_versions := NULL;
    END IF;
    IF changed = '{}'::jsonb THEN
        changed := NULL;
    END IF;
END
$$;

-- One change record from two touches of the same import: per field, "from" of the first touch that
-- changed it and "to" of the latest; fields back where they started drop out.
CREATE FUNCTION pi_merge_changes(old jsonb, new jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    merged jsonb := coalesce(old, '{}'::jsonb);
    k text;
    val jsonb;
    inner_merged jsonb;
BEGIN
    IF new IS NULL THEN
        RETURN old;
    END IF;
    FOR k, val IN SELECT * FROM jsonb_each(new) LOOP
        IF k = 'attributes' THEN
            inner_merged := pi_merge_changes(merged -> 'attributes', val);
            merged := CASE WHEN inner_merged IS NULL THEN merged - 'attributes'
                           ELSE merged || jsonb_build_object('attributes', inner_merged) END;
        ELSIF merged ? k THEN
            IF (merged -> k -> 0) IS NOT DISTINCT FROM (val -> 1) THEN
                merged := merged - k;
            ELSE
                merged := merged || jsonb_build_object(k, jsonb_build_array(merged -> k -> 0, val -> 1));
            END IF;
        ELSE
            merged := merged || jsonb_build_object(k, val);
        END IF;
    END LOOP;
    RETURN nullif(merged, '{}'::jsonb);
END
$$;
