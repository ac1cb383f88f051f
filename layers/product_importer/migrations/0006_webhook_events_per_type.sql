-- An import has one event per event type, not one in all: a preview ends "import.previewed", and an
-- import that completed (or failed) can later be reverted ("import.reverted").
ALTER TABLE import_events DROP CONSTRAINT IF EXISTS import_events_import_id_key;
ALTER TABLE import_events ADD CONSTRAINT import_events_import_id_type_key UNIQUE (import_id, type);

-- webhooks.secret now holds the secret sealed (KMS in AWS, AES-GCM locally: "kms:v1:…" / "aesgcm:v1:…").
-- Rows saved before keep their plaintext until the webhooks worker seals them (it does so on its next job).
COMMENT ON COLUMN webhooks.secret IS 'sealed webhook secret (kms:v1: or aesgcm:v1:); plaintext only before 0006';
