-- Every import's events and their deliveries stay for good. The webhooks worker asks at each run for the
-- events not fanned out yet and the deliveries still owed since a recent moment: without these it read every
-- event ever recorded (each holds the whole Import JSON) and every delivery (found by
-- tests/integration/test_statement_plans.py with 20,000 past events).
CREATE INDEX import_events_unfanned_idx ON import_events (created_at) WHERE fanned_out_at IS NULL;
CREATE INDEX import_events_fanned_out_idx ON import_events (fanned_out_at) WHERE fanned_out_at IS NOT NULL;
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id, webhook_id);
