-- Up Migration
-- Query words also widen to the known lexemes that CONTAIN them by trigrams
-- (word similarity), so "erguss" finds "Pleuraerguss" and "meniskus"
-- "Meniskusriss": German and Dutch compounds stay searchable through the
-- full-text index alone (a trigram scan of whole report texts is far slower).
CREATE OR REPLACE FUNCTION medlake_report_query(q text, min_similarity real DEFAULT 0.4, max_alternatives integer DEFAULT 6) RETURNS tsquery
LANGUAGE plpgsql STABLE AS $$
DECLARE
  widened tsquery := websearch_to_tsquery('medlake_report', q);
  word text;
  alternatives text;
BEGIN
  FOR word IN SELECT DISTINCT w FROM unnest(tsvector_to_array(to_tsvector('medlake_report', q))) AS w LOOP
    CONTINUE WHEN length(word) < 4 OR word ~ '[''\\]';
    SELECT string_agg('''' || x.lexeme || '''', ' | ') INTO alternatives
    FROM (SELECT l.lexeme FROM report_lexemes l
          WHERE (l.lexeme % word OR (length(word) >= 5 AND word <% l.lexeme)) AND l.lexeme <> word AND l.lexeme !~ '[''\\]'
            AND (similarity(l.lexeme, word) >= min_similarity OR (length(word) >= 5 AND word_similarity(word, l.lexeme) >= 0.7))
          ORDER BY greatest(similarity(l.lexeme, word), word_similarity(word, l.lexeme) - 0.2) DESC, l.lexeme LIMIT max_alternatives) x;
    IF alternatives IS NOT NULL THEN
      widened := ts_rewrite(widened, ('''' || word || '''')::tsquery, ('''' || word || ''' | ' || alternatives)::tsquery);
    END IF;
  END LOOP;
  RETURN widened;
END $$;

-- Down Migration
CREATE OR REPLACE FUNCTION medlake_report_query(q text, min_similarity real DEFAULT 0.4, max_alternatives integer DEFAULT 6) RETURNS tsquery
LANGUAGE plpgsql STABLE AS $$
DECLARE
  widened tsquery := websearch_to_tsquery('medlake_report', q);
  word text;
  alternatives text;
BEGIN
  FOR word IN SELECT DISTINCT w FROM unnest(tsvector_to_array(to_tsvector('medlake_report', q))) AS w LOOP
    CONTINUE WHEN length(word) < 4 OR word ~ '[''\\]';
    SELECT string_agg('''' || x.lexeme || '''', ' | ') INTO alternatives
    FROM (SELECT l.lexeme FROM report_lexemes l
          WHERE l.lexeme % word AND l.lexeme <> word AND l.lexeme !~ '[''\\]' AND similarity(l.lexeme, word) >= min_similarity
          ORDER BY similarity(l.lexeme, word) DESC, l.lexeme LIMIT max_alternatives) x;
    IF alternatives IS NOT NULL THEN
      widened := ts_rewrite(widened, ('''' || word || '''')::tsquery, ('''' || word || ''' | ' || alternatives)::tsquery);
    END IF;
  END LOOP;
  RETURN widened;
END $$;
