-- pg_temp.wait_for(query, timeout): run query (returning one boolean)
-- every 50 ms until it is true, for at most timeout; returns whether it
-- became true.  Each run sees what other sessions (the background worker)
-- have committed since, and pg_stat_activity as it is now.  A wait for a
-- condition, never a fixed sleep.

CREATE FUNCTION pg_temp.wait_for(query text, timeout interval DEFAULT '30 s')
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	deadline timestamptz := clock_timestamp() + timeout;
	done boolean;
BEGIN
	LOOP
		-- Statistics views are read once a transaction unless told again.
		PERFORM pg_stat_clear_snapshot();
		EXECUTE query INTO done;
		IF done THEN
			RETURN true;
		END IF;
		IF clock_timestamp() > deadline THEN
			RETURN false;
		END IF;
		PERFORM pg_sleep(0.05);
	END LOOP;
END
$$;
