-- Up Migration
-- Encapsulated frames made of several fragments: per frame, the value ranges
-- of its fragments inside the archived file, to concatenate when serving the
-- frame (frame_ranges then spans the fragments, item headers included).
-- NULL when every frame is one range.
ALTER TABLE instances ADD COLUMN frame_fragments jsonb;
ALTER TABLE held_instances ADD COLUMN frame_ranges jsonb, ADD COLUMN frame_fragments jsonb,
  ADD COLUMN pixel_data_offset bigint, ADD COLUMN pixel_data_length bigint;

-- Down Migration
ALTER TABLE held_instances DROP COLUMN pixel_data_length, DROP COLUMN pixel_data_offset, DROP COLUMN frame_fragments, DROP COLUMN frame_ranges;
ALTER TABLE instances DROP COLUMN frame_fragments;
