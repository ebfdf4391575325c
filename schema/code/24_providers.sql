-- An account's credentials belong to the provider at its address: an
-- update that changes base_url or kind clears them unless it also sets new
-- ones, so that whoever may edit an account cannot send its secrets to an
-- address of their choosing.  (Setting them to what they were is not
-- setting new ones: credentials = credentials keeps nothing.)
CREATE OR REPLACE FUNCTION cadence.clear_moved_credentials() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF (NEW.base_url IS DISTINCT FROM OLD.base_url OR NEW.kind IS DISTINCT FROM OLD.kind)
	   AND NEW.credentials = OLD.credentials THEN
		NEW.credentials := '{}';
	END IF;
	RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER providers_credentials_follow_address
	BEFORE UPDATE OF base_url, kind ON cadence.providers
	FOR EACH ROW EXECUTE FUNCTION cadence.clear_moved_credentials();
