-- Compares two snapshots of test/upgrade/rows.sql (psql -v before=NAME -v
-- after=NAME -v changes=LIST) and prints, one per line, each table or
-- sequence that is gone and each row that is missing or different after:
-- nothing when every row is kept.  Columns the later snapshot adds (new in
-- a version) are left out of the comparison; a column it lacks makes its
-- rows differ, unless changes names it: a list of table.column=new_name
-- (renamed) and table.column= (dropped), separated by spaces, which is
-- what an update says it does to the columns of the earlier version.
\set ON_ERROR_STOP 1
WITH change AS (
	SELECT split_part(c, '.', 1) AS rel,
		   split_part(split_part(c, '.', 2), '=', 1) AS old,
		   nullif(split_part(c, '=', 2), '') AS new
	  FROM unnest(string_to_array(:'changes', ' ')) AS c
	 WHERE c <> ''
), before AS (
	SELECT s.rel,
		   (s.r - coalesce((SELECT array_agg(ch.old) FROM change ch WHERE ch.rel = s.rel), '{}'))
		   || coalesce((SELECT jsonb_object_agg(ch.new, s.r -> ch.old) FROM change ch
						 WHERE ch.rel = s.rel AND ch.new IS NOT NULL), '{}') AS r
	  FROM upgrade_check.rows s WHERE s.snapshot = :'before'
), after AS (
	SELECT rel, r FROM upgrade_check.rows WHERE snapshot = :'after'
), columns AS (
	SELECT rel, array_agg(DISTINCT k) AS keys FROM before, jsonb_object_keys(r) AS k GROUP BY rel
), kept AS (
	SELECT a.rel, (SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(a.r) AS e
					WHERE e.key = ANY (c.keys)) AS r
	  FROM after a JOIN columns c USING (rel)
)
SELECT 'gone: ' || rel FROM (SELECT DISTINCT rel FROM before EXCEPT SELECT DISTINCT rel FROM after) g
UNION ALL
SELECT 'missing or changed in ' || rel || ': ' || r::text
  FROM (SELECT rel, r FROM before EXCEPT ALL SELECT rel, r FROM kept) m
UNION ALL
SELECT 'new or changed in ' || rel || ': ' || r::text
  FROM (SELECT rel, r FROM kept EXCEPT ALL SELECT rel, r FROM before) n
ORDER BY 1;
