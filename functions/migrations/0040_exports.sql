-- Up Migration
-- Cohort exports: the request, its frozen file list (one row per zip entry,
-- which is also the zip writer's state: offsets, CRC-32s, sizes of written
-- entries), and the multipart parts uploaded so far. Enough to resume a zip
-- in another invocation without losing or doubling a file.

CREATE TABLE exports (
  export_id         uuid PRIMARY KEY,
  owner_sub         text NOT NULL,
  owner_name        text,                       -- email or username, shown to admins
  owner_email       text,                       -- where the link is sent; null for machine tokens
  name              text,
  state             text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  -- {filter: StudyFilter JSON | null, studies: [uid]} and the options, as validated
  selection         jsonb NOT NULL,
  options           jsonb NOT NULL,
  rerun_of          uuid REFERENCES exports(export_id),
  estimate          jsonb NOT NULL DEFAULT '{}',
  -- Frozen at the start of the first run.
  frozen_at         timestamptz,
  plan              jsonb,                      -- zip plan: part size, thresholds, timestamp, build fingerprint
  total_files       integer,
  total_bytes       bigint,                     -- data bytes of all entries (before zip overhead)
  deid_summary      jsonb,
  -- Progress of the zip.
  object_key        text,
  multipart_upload_id text,
  completing        boolean NOT NULL DEFAULT false, -- every byte uploaded, CompleteMultipartUpload under way
  files_done        integer NOT NULL DEFAULT 0,
  bytes_done        bigint NOT NULL DEFAULT 0,
  zip_bytes         bigint,
  zip_files         integer,
  failure           jsonb,                      -- {code, message}
  -- One worker at a time: the lease, and the run sequence of continuation messages.
  run_seq           integer NOT NULL DEFAULT 0,
  runs              integer NOT NULL DEFAULT 0,
  lease_owner       text,
  lease_until       timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  started_at        timestamptz,
  finished_at       timestamptz,
  cancelled_at      timestamptz,
  expires_at        timestamptz,
  notified_at       timestamptz
);
CREATE INDEX exports_owner ON exports (owner_sub, created_at DESC, export_id DESC);
CREATE INDEX exports_created ON exports (created_at DESC, export_id DESC);
CREATE INDEX exports_active ON exports (owner_sub) WHERE state IN ('queued', 'running');

CREATE TABLE export_items (
  export_id         uuid NOT NULL REFERENCES exports(export_id) ON DELETE CASCADE,
  seq               integer NOT NULL,           -- order in the zip
  kind              text NOT NULL CHECK (kind IN ('dicom', 'report', 'annotation', 'labels', 'manifest-csv', 'manifest-json', 'readme')),
  path              text NOT NULL,              -- path inside the zip
  patient_id        text,
  study_uid         text,
  study_date        date,
  series_uid        text,
  series_number     integer,
  modality          text,
  sop_uid           text,
  sop_class_uid     text,
  instance_number   integer,
  transfer_syntax_uid text,
  archive_key       text,                       -- dicom: the archived object
  sha256            text,                       -- dicom: frozen; generated files: once written
  size_bytes        bigint,                     -- dicom: frozen; generated files: once written
  report_version    integer,
  document          jsonb,                      -- annotation: the SR's DICOM JSON; labels: the rows
  -- The zip entry once written (deterministic: a resumed run writes the same values).
  entry_offset      bigint,                     -- of the local file header
  entry_end         bigint,                     -- first byte after the entry (data descriptor included)
  entry_crc32       bigint,
  entry_compressed_bytes bigint,
  entry_method      smallint,
  entry_descriptor  boolean,
  entry_zip64       boolean,
  -- Left out of the zip (e.g. archive object missing): {code, message}.
  error             jsonb,
  PRIMARY KEY (export_id, seq),
  UNIQUE (export_id, path)
);

CREATE TABLE export_parts (
  export_id         uuid NOT NULL REFERENCES exports(export_id) ON DELETE CASCADE,
  upload_id         text NOT NULL,
  part_number       integer NOT NULL,
  etag              text NOT NULL,
  checksum_crc32    text,
  size_bytes        bigint NOT NULL,
  PRIMARY KEY (export_id, upload_id, part_number)
);

-- Down Migration
DROP TABLE export_parts;
DROP TABLE export_items;
DROP TABLE exports;
