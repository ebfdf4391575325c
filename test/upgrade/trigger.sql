-- The README's trigger that enrolls a lead when it gets an owner, made by
-- a DBA on cadence's own contacts table.  pg_dump does not keep what users
-- add to an extension's tables, so after a restore it is made again (the
-- README says so).
CREATE TRIGGER leads_assigned AFTER INSERT OR UPDATE OF owner_id ON cadence.contacts
	FOR EACH ROW EXECUTE FUNCTION cadence.lead_assigned_trigger('id', 'owner_id', 'tenant_id');
