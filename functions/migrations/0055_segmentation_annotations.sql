-- Up Migration
-- Segmentations (DICOM SEG) saved from the viewer become annotation versions
-- like measurement reports, and reports or segmentations uploaded for a study
-- of the lake become versions too (source 'upload'). A set holds one kind of
-- object: its versions are all measurement SRs or all SEGs, so the versioning
-- rule (same author, same name) only matches sets of the same kind, and a
-- segmentation may share its name with a measurement report.

ALTER TABLE annotation_sets
  ADD COLUMN kind text NOT NULL DEFAULT 'measurements' CHECK (kind IN ('measurements', 'segmentation'));

DROP INDEX annotation_sets_author_name;
CREATE UNIQUE INDEX annotation_sets_author_name ON annotation_sets (study_uid, kind, author_sub, lower(name));

ALTER TABLE annotation_versions DROP CONSTRAINT annotation_versions_source_check;
ALTER TABLE annotation_versions ADD CONSTRAINT annotation_versions_source_check CHECK (source IN ('viewer', 'api', 'restore', 'upload'));

-- Down Migration
ALTER TABLE annotation_versions DROP CONSTRAINT annotation_versions_source_check;
ALTER TABLE annotation_versions ADD CONSTRAINT annotation_versions_source_check CHECK (source IN ('viewer', 'api', 'restore'));
DROP INDEX annotation_sets_author_name;
CREATE UNIQUE INDEX annotation_sets_author_name ON annotation_sets (study_uid, author_sub, lower(name));
ALTER TABLE annotation_sets DROP COLUMN kind;
