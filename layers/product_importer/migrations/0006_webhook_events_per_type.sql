-- An import has one event per event type, not one in all: a preview ends "import.previewed", and an
-- import that completed (or failed) can later be reverted ("import.reverted").
ALTER TABLE import_events DROP CONSTRAINT IF EXISTS import_events_import_id_key;
ALTER TABLE import_events ADD CONSTRAINT import_events_import_id_type_key UNIQUE (import_id, type);

-- webhooks.secret now holds the secret sealed (KMS in AWS, AES-GCM locally: "kms:v1:…" / "aesgcm:v1:…").
-- Rows saved before keep their plaintext until the webhooks worker seals them (it does so on its next job).
COMMENT ON COLUMN webhooks.secret IS 'sealed webhook secret (kms:v1: or aesgcm:v1:); plaintext only before 0006';

-- The application's database role has DML only (product_importer.db.roles): it may not create or drop
-- tables. The day partitions of the undo data are made and dropped at run time, so through these two
-- functions, which run as their owner (the schema owner in AWS) and do exactly that and nothing else.
-- Names and bounds come from a date, never from the caller's text.
CREATE FUNCTION pi_ensure_undo_partition(day date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    parent text;
BEGIN
    FOREACH parent IN ARRAY ARRAY['undo', 'undo_lost'] LOOP
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       parent || '_p' || to_char(day, 'YYYYMMDD'), parent, day, day + 1);
    END LOOP;
END $$;

-- Drops the undo day partitions that end on or before ``before``; returns how many tables it dropped.
CREATE FUNCTION pi_drop_undo_partitions(before date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    part record;
    dropped integer := 0;
BEGIN
    FOR part IN
        SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname IN ('undo', 'undo_lost') AND c.relname ~ '_p[0-9]{8}$'
          AND to_date(right(c.relname, 8), 'YYYYMMDD') < before
    LOOP
        EXECUTE format('DROP TABLE %I', part.relname);
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END $$;

REVOKE ALL ON FUNCTION pi_ensure_undo_partition(date) FROM PUBLIC;
REVOKE ALL ON FUNCTION pi_drop_undo_partitions(date) FROM PUBLIC;
