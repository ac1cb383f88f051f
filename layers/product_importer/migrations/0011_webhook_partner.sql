-- A webhook may be for one partner: it then hears only of that partner's imports (a drop's first folder
-- under incoming/, or the partner an admin gave on POST /api/imports). NULL: every import, as before.
-- A partner's receiver must not learn other partners' file names, counts and errors.
ALTER TABLE webhooks ADD COLUMN partner text;
