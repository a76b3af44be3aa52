-- Up Migration
-- When each part of an export's zip went up: a resumed run uploads only the
-- parts after the recorded ones (an operator, and the tests, can see it).
ALTER TABLE export_parts ADD COLUMN uploaded_at timestamptz NOT NULL DEFAULT now();

-- Down Migration
ALTER TABLE export_parts DROP COLUMN uploaded_at;
