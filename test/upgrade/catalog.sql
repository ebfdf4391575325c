-- The catalog of the extension cadence in this database, one line per
-- object or property, sorted, with nothing that differs between two equal
-- installs (OIDs, physical column numbers): two databases hold the same
-- cadence when this prints the same text in both.  Covers the extension's
-- members, functions (pg_get_functiondef: arguments, defaults, result,
-- language, volatility, security, settings, body), schemas, tables,
-- columns, constraints, indexes, triggers, policies, sequences, views,
-- types, comments, privileges and the initial privileges pg_dump reads,
-- and the tables pg_dump keeps the data of.
--
--   psql -X -A -t -f test/upgrade/catalog.sql
\set ON_ERROR_STOP 1
SET search_path = pg_catalog;
SET timezone = 'UTC';
-- Privileges in a stable order: the order of GRANTs does not matter.
CREATE FUNCTION pg_temp.acl(a aclitem[]) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$ SELECT array_to_string(ARRAY(SELECT x::text FROM unnest(a) x ORDER BY 1), ' ') $$;
-- An object's privileges, the owner's default ones when none were ever
-- granted (NULL): a revoke leaves the default written out, which a restore
-- does not write again.
CREATE FUNCTION pg_temp.acl(a aclitem[], objtype "char", owner oid) RETURNS text
LANGUAGE sql STABLE
AS $$ SELECT pg_temp.acl(coalesce(a, acldefault(objtype, owner))) $$;

WITH ext AS (
	SELECT * FROM pg_extension WHERE extname = 'cadence'
), member AS (
	SELECT d.classid, d.objid FROM pg_depend d, ext
	 WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid
	   AND d.deptype = 'e'
), ns AS (
	SELECT n.* FROM pg_namespace n
	 WHERE n.oid IN (SELECT objid FROM member WHERE classid = 'pg_namespace'::regclass)
), rel AS (
	SELECT c.*, format('%I.%I', n.nspname, c.relname) AS name
	  FROM pg_class c JOIN ns n ON n.oid = c.relnamespace
), col AS (
	SELECT a.*, r.name || '.' || quote_ident(a.attname) AS name,
		   row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS position
	  FROM pg_attribute a JOIN rel r ON r.oid = a.attrelid
	 WHERE a.attnum > 0 AND NOT a.attisdropped
), line (kind, name, detail) AS (
	SELECT 'extension', extname::text,
		   format('version %s, relocatable %s, schema %s, requires %s', extversion,
				  extrelocatable, extnamespace::regnamespace, array_to_string(ARRAY(
				  SELECT r.extname FROM pg_depend d JOIN pg_extension r ON r.oid = d.refobjid
				   WHERE d.classid = 'pg_extension'::regclass AND d.objid = ext.oid
					 AND d.refclassid = 'pg_extension'::regclass ORDER BY 1), ','))
	  FROM ext
	UNION ALL
	-- pg_extension_config_dump: whose data pg_dump keeps, and which rows.
	SELECT 'dumped data', c.relid::regclass::text, coalesce(c.cond, '')
	  FROM ext, unnest(ext.extconfig, ext.extcondition) AS c(relid, cond)
	UNION ALL
	SELECT 'member', pg_describe_object(m.classid, m.objid, 0), '' FROM member m
	UNION ALL
	SELECT 'schema', quote_ident(n.nspname),
		   format('owner %s, acl %s, comment %s', pg_get_userbyid(n.nspowner),
				  pg_temp.acl(n.nspacl, 'n', n.nspowner),
				  obj_description(n.oid, 'pg_namespace'))
	  FROM ns n
	UNION ALL
	SELECT 'default privileges', pg_describe_object('pg_default_acl'::regclass, d.oid, 0),
		   pg_temp.acl(d.defaclacl)
	  FROM pg_default_acl d JOIN ns n ON n.oid = d.defaclnamespace
	UNION ALL
	SELECT 'function', p.oid::regprocedure::text,
		   format('owner %s, acl %s, leakproof %s, comment %s%s', pg_get_userbyid(p.proowner),
				  pg_temp.acl(p.proacl, 'f', p.proowner), p.proleakproof, obj_description(p.oid, 'pg_proc'),
				  CASE WHEN p.prokind IN ('f', 'p') THEN E'\n' || pg_get_functiondef(p.oid) END)
	  FROM pg_proc p JOIN ns n ON n.oid = p.pronamespace
	UNION ALL
	SELECT 'relation', r.name,
		   format('kind %s, persistence %s, owner %s, acl %s, row security %s, forced %s, '
				  'options %s, replica identity %s, comment %s',
				  r.relkind, r.relpersistence, pg_get_userbyid(r.relowner),
				  pg_temp.acl(r.relacl, CASE r.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", r.relowner),
				  r.relrowsecurity, r.relforcerowsecurity, r.reloptions, r.relreplident,
				  obj_description(r.oid, 'pg_class'))
	  FROM rel r
	UNION ALL
	SELECT 'column', c.name,
		   format('position %s, type %s, not null %s, default %s, identity %s, generated %s, '
				  'collation %s, storage %s, acl %s, comment %s',
				  c.position, format_type(c.atttypid, c.atttypmod), c.attnotnull,
				  pg_get_expr(d.adbin, d.adrelid), c.attidentity, c.attgenerated,
				  CASE WHEN c.attcollation <> 0 THEN c.attcollation::regcollation::text END,
				  c.attstorage, pg_temp.acl(c.attacl), col_description(c.attrelid, c.attnum))
	  FROM col c LEFT JOIN pg_attrdef d ON d.adrelid = c.attrelid AND d.adnum = c.attnum
	UNION ALL
	SELECT 'constraint', r.name || '.' || quote_ident(k.conname),
		   format('%s, comment %s', pg_get_constraintdef(k.oid),
				  obj_description(k.oid, 'pg_constraint'))
	  FROM pg_constraint k JOIN rel r ON r.oid = k.conrelid
	UNION ALL
	SELECT 'constraint', format_type(k.contypid, NULL) || '.' || quote_ident(k.conname),
		   pg_get_constraintdef(k.oid)
	  FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid JOIN ns n ON n.oid = t.typnamespace
	UNION ALL
	SELECT 'index', r.name, pg_get_indexdef(i.indexrelid) || format(', clustered %s', i.indisclustered)
	  FROM pg_index i JOIN rel r ON r.oid = i.indexrelid
	UNION ALL
	SELECT 'trigger', r.name || '.' || quote_ident(t.tgname),
		   format('%s, enabled %s, comment %s', pg_get_triggerdef(t.oid), t.tgenabled,
				  obj_description(t.oid, 'pg_trigger'))
	  FROM pg_trigger t JOIN rel r ON r.oid = t.tgrelid
	 WHERE NOT t.tgisinternal
	UNION ALL
	SELECT 'policy', r.name || '.' || quote_ident(p.polname),
		   format('command %s, permissive %s, roles %s, using %s, with check %s, comment %s',
				  p.polcmd, p.polpermissive,
				  ARRAY(SELECT CASE WHEN x = 0 THEN 'public' ELSE pg_get_userbyid(x)::text END
						  FROM unnest(p.polroles) x ORDER BY 1),
				  pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid),
				  obj_description(p.oid, 'pg_policy'))
	  FROM pg_policy p JOIN rel r ON r.oid = p.polrelid
	UNION ALL
	SELECT 'rule', r.name || '.' || quote_ident(w.rulename), pg_get_ruledef(w.oid)
	  FROM pg_rewrite w JOIN rel r ON r.oid = w.ev_class
	 WHERE w.rulename <> '_RETURN'
	UNION ALL
	SELECT 'view', r.name, pg_get_viewdef(r.oid)
	  FROM rel r WHERE r.relkind IN ('v', 'm')
	UNION ALL
	SELECT 'sequence', r.name,
		   format('type %s, start %s, increment %s, min %s, max %s, cache %s, cycle %s, owned by %s',
				  s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
				  s.seqcache, s.seqcycle, pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid))
	  FROM pg_sequence s JOIN rel r ON r.oid = s.seqrelid
	  LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
						   AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
	UNION ALL
	SELECT 'type', format_type(t.oid, NULL),
		   format('type %s, owner %s, acl %s, comment %s, base %s, labels %s, attributes %s',
				  t.typtype, pg_get_userbyid(t.typowner), pg_temp.acl(t.typacl, 'T', t.typowner),
				  obj_description(t.oid, 'pg_type'),
				  CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
				  ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid
						 ORDER BY e.enumsortorder),
				  ARRAY(SELECT quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
						  FROM pg_attribute a
						 WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
						 ORDER BY a.attnum))
	  FROM pg_type t JOIN ns n ON n.oid = t.typnamespace
	 WHERE t.typrelid = 0 OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'
	UNION ALL
	-- What pg_dump takes as the extension's own privileges (and so leaves
	-- out of a dump): those set by its scripts, no others.
	SELECT 'initial privileges', pg_describe_object(i.classoid, i.objoid, i.objsubid),
		   pg_temp.acl(i.initprivs)
	  FROM pg_init_privs i
	 WHERE i.privtype = 'e'
	   AND (EXISTS (SELECT FROM member m WHERE m.classid = i.classoid AND m.objid = i.objoid)
			OR (i.classoid = 'pg_class'::regclass
				AND EXISTS (SELECT FROM rel r WHERE r.oid = i.objoid)))
)
SELECT kind || ' ' || name || ': ' || detail
  FROM line
 ORDER BY kind COLLATE "C", name COLLATE "C", detail COLLATE "C";
