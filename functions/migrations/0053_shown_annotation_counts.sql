-- Up Migration
-- The study and series counters (studies.num_instances, num_series,
-- series.num_instances) count what DICOMweb shows by default: of each
-- annotation set only the version it is at, as the QIDO-RS series and
-- instance lists do (shared/src/annotations/visibility-sql.ts). Until now
-- they also counted the versions a set had moved on from; from here the
-- annotation store moves them when it records a version
-- (functions/src/annotations/shown-counters.ts).
--
-- The counts as one viewer is shown them (NULL: by default), the rule of
-- visibility-sql.ts: an instance is shown unless it is an annotation version
-- and no version it is of is the one its set shows the viewer (their live
-- selection, else the latest); a series is shown unless it holds annotation
-- versions and none of its instances is shown. QIDO-RS calls these only for
-- the studies a caller picked versions in; as functions they are planned
-- when called, not with every search.

CREATE OR REPLACE FUNCTION medlake_instance_shown(of_sop text, viewer_sub text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT NOT EXISTS (SELECT 1 FROM annotation_versions avx WHERE avx.sop_uid = of_sop)
    OR EXISTS (SELECT 1 FROM annotation_versions avs JOIN annotation_sets ast ON ast.set_id = avs.set_id
      WHERE avs.sop_uid = of_sop AND avs.version = coalesce((SELECT sel.version FROM annotation_view_selections sel
        WHERE sel.actor_sub = viewer_sub AND sel.set_id = ast.set_id AND sel.expires_at > now()), ast.current_version))
$$;

CREATE OR REPLACE FUNCTION medlake_series_shown_instances(of_series text, viewer_sub text) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT count(*)::int FROM instances i WHERE i.series_uid = of_series AND medlake_instance_shown(i.sop_uid, viewer_sub)
$$;

CREATE OR REPLACE FUNCTION medlake_study_shown_instances(of_study text, viewer_sub text) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT count(*)::int FROM instances i WHERE i.study_uid = of_study AND medlake_instance_shown(i.sop_uid, viewer_sub)
$$;

CREATE OR REPLACE FUNCTION medlake_study_shown_series(of_study text, viewer_sub text) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT count(*)::int FROM series se WHERE se.study_uid = of_study
    AND (NOT EXISTS (SELECT 1 FROM annotation_versions avq WHERE avq.series_uid = se.series_uid)
      OR EXISTS (SELECT 1 FROM instances i WHERE i.series_uid = se.series_uid AND medlake_instance_shown(i.sop_uid, viewer_sub)))
$$;

-- The studies holding annotation versions are recounted; no other study changes.
UPDATE series se SET num_instances = medlake_series_shown_instances(se.series_uid, NULL)
  WHERE se.study_uid IN (SELECT study_uid FROM annotation_sets UNION SELECT i.study_uid FROM annotation_versions v JOIN instances i ON i.sop_uid = v.sop_uid);

UPDATE studies s SET num_instances = medlake_study_shown_instances(s.study_uid, NULL), num_series = medlake_study_shown_series(s.study_uid, NULL)
  WHERE s.study_uid IN (SELECT study_uid FROM annotation_sets UNION SELECT i.study_uid FROM annotation_versions v JOIN instances i ON i.sop_uid = v.sop_uid);

-- Down Migration
-- Back to counting every instance row and every series of those studies.
UPDATE series se SET num_instances = (SELECT count(*) FROM instances i WHERE i.series_uid = se.series_uid)
  WHERE se.study_uid IN (SELECT study_uid FROM annotation_sets UNION SELECT i.study_uid FROM annotation_versions v JOIN instances i ON i.sop_uid = v.sop_uid);

UPDATE studies s SET
    num_instances = (SELECT count(*) FROM instances i WHERE i.study_uid = s.study_uid),
    num_series = (SELECT count(*) FROM series se WHERE se.study_uid = s.study_uid)
  WHERE s.study_uid IN (SELECT study_uid FROM annotation_sets UNION SELECT i.study_uid FROM annotation_versions v JOIN instances i ON i.sop_uid = v.sop_uid);

DROP FUNCTION medlake_study_shown_series(text, text);
DROP FUNCTION medlake_study_shown_instances(text, text);
DROP FUNCTION medlake_series_shown_instances(text, text);
DROP FUNCTION medlake_instance_shown(text, text);
