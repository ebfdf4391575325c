-- What keeps a run's rows together: scheduled_actions name their run
-- without a foreign key (see schema/tables/23_runs.sql), so deleting runs
-- deletes their actions here, once per statement.

CREATE OR REPLACE FUNCTION cadence.delete_run_actions() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	DELETE FROM cadence.scheduled_actions a
	 USING gone g
	 WHERE a.tenant_id = g.tenant_id AND a.run_id = g.id;
	RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER runs_delete_actions AFTER DELETE ON cadence.runs
	REFERENCING OLD TABLE AS gone
	FOR EACH STATEMENT EXECUTE FUNCTION cadence.delete_run_actions();
