-- Up Migration
-- Review of held instances by an administrator (release into the lake, or
-- discard): the decision's stated reason, and what releasing needs to
-- publish the held file through the index writer as ingest would (its
-- transfer syntax, and the source it came from, for idempotency).
ALTER TABLE held_instances
  ADD COLUMN decision_reason text,
  ADD COLUMN transfer_syntax_uid text,
  ADD COLUMN source_uid_hash text,
  ADD COLUMN source_sha256 text;

-- Rows held before: their source is the one ingest recorded as held for the same file.
UPDATE held_instances h SET source_uid_hash = s.source_uid_hash, source_sha256 = s.source_sha256
FROM ingested_sources s
WHERE s.sop_uid = h.sop_uid AND s.outcome = 'held'
  AND s.upload_id IS NOT DISTINCT FROM h.upload_id AND s.file_index IS NOT DISTINCT FROM h.file_index;

-- The review list: newest first, waiting ones by default, or those of one upload.
CREATE INDEX held_instances_waiting ON held_instances (created_at DESC, sop_uid DESC) WHERE decision IS NULL;
CREATE INDEX held_instances_created ON held_instances (created_at DESC, sop_uid DESC);
CREATE INDEX held_instances_upload ON held_instances (upload_id);

-- Down Migration
DROP INDEX held_instances_upload;
DROP INDEX held_instances_created;
DROP INDEX held_instances_waiting;
ALTER TABLE held_instances DROP COLUMN source_sha256, DROP COLUMN source_uid_hash, DROP COLUMN transfer_syntax_uid, DROP COLUMN decision_reason;
