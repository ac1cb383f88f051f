-- A held replace confirmed and carried out is an event of its own: "import.completed" again, with the
-- Import after the replace (replace.status "done", products_deactivated). Without it a partner waiting on
-- webhooks never heard that the replace was done. ``occasion`` tells the events of one type of one import
-- apart: '' for the import's end, 'replace' for its confirmed replace.
ALTER TABLE import_events ADD COLUMN occasion text NOT NULL DEFAULT '';
ALTER TABLE import_events DROP CONSTRAINT IF EXISTS import_events_import_id_type_key;
ALTER TABLE import_events ADD CONSTRAINT import_events_import_id_type_occasion_key UNIQUE (import_id, type, occasion);
