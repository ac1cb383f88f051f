-- The registry keeps a row per import, preview and edit for good (tens of thousands after a year of hourly
-- partner feeds). Two questions asked at every chunk find few rows among them: the imports whose revert is
-- running or done (every revert chunk) and the newer imports whose replace began (every import chunk,
-- replace.lock_late_replaces). Without these each read the whole registry (found by
-- tests/integration/test_statement_plans.py with 20,000 past imports).
CREATE INDEX import_registry_reverted_idx ON import_registry (import_no) WHERE revert_state IS NOT NULL;
CREATE INDEX import_registry_replace_ran_idx ON import_registry (import_no)
    WHERE replace_ran_at IS NOT NULL AND revert_state IS NULL;
