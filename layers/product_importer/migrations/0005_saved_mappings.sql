-- Saved mappings (CONTRACT §1 Mapping, §3 /api/mappings). One applies by itself to an upload whose header
-- set equals its own (names folded as CONTRACT §1 compares them, any order), or to a partner drop under its
-- prefix (the longest matching prefix wins). One mapping per header set, one per prefix.
CREATE TABLE mappings (
    id         text PRIMARY KEY,
    name       text        NOT NULL,
    mapping    jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- {"<header as written>": field | "attribute" | "ignore"}
    profile    text,
    headers    jsonb,                                     -- the header names as written (a JSON array)
    header_key text UNIQUE,  -- sha256 of the folded, sorted header set; only for mappings without a prefix
    prefix     text UNIQUE,  -- incoming/<partner>/…
    replace    jsonb,                                     -- {"scope", "max_deactivate_percent"} for drops
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (prefix IS NULL OR prefix LIKE 'incoming/%/'),
    CHECK (header_key IS NULL OR prefix IS NULL)
);
CREATE INDEX mappings_created_idx ON mappings (created_at, id);
