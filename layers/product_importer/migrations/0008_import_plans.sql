-- How each import's file is read and cut, pinned at its first split (DESIGN decisions 1 and 12): the
-- column plan and header once per import (chunk messages refer to it by import id), the chunking
-- parameters a retry must reuse, and the splitter's checkpoint when a split spans invocations.
CREATE TABLE IF NOT EXISTS import_plans (
    import_id text PRIMARY KEY,
    plan jsonb NOT NULL,
    checkpoint jsonb,               -- where the next chunk begins (SplitPosition), once a split was cut short
    checkpoint_offset bigint,       -- the checkpoint's byte offset: checkpoints only move forward
    checkpoint_sent boolean NOT NULL DEFAULT false,  -- the continuation message for it has been sent
    created_at timestamptz NOT NULL DEFAULT now()
);
