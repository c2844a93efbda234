-- Physical removal of records past retention through ONE path (issue 16; DISPOSAL-1, DISPOSAL-5, DISPOSAL-7; ADR 0011).
-- Owned by records: it is the only code that deletes from records' tables.
--
--  * mamori_disposer: a NOLOGIN role, the only one with DELETE on the record tables. The append-only trigger of
--    resource_version now lets a DELETE through only when current_user is that role, i.e. inside mamori_dispose.
--  * mamori_dispose(batch, by): SECURITY DEFINER, owned by mamori_disposer, executable by the owner user only (not by
--    mamori_app: the server calls it on a connection that logs in as the owner, never from the runtime pool). In one
--    transaction it refuses a batch that is not open or lacks two distinct approvals, and any resource that changed
--    since the batch froze it (version count, newest chain hash) or that something outside the batch still references;
--    then removes versions, head, index rows and derived rows, and leaves a tombstone per resource.
--  * resource_tombstone: that the record existed, how many versions it had, its last chain hash, and the batch.
--    A new resource may not take a disposed resource's type and id.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mamori_disposer') THEN
    CREATE ROLE mamori_disposer NOLOGIN;
  END IF;
END
$$;

CREATE TABLE resource_tombstone (
  res_type     text        NOT NULL,
  res_id       text        NOT NULL,
  versions     integer     NOT NULL CHECK (versions > 0),
  last_chain   bytea       NOT NULL CHECK (length(last_chain) = 32),
  batch_id     bigint      NOT NULL,
  disposed_at  timestamptz NOT NULL,
  PRIMARY KEY (res_type, res_id)
);
CREATE INDEX resource_tombstone_batch_ix ON resource_tombstone (batch_id);
CREATE TRIGGER resource_tombstone_no_update_delete BEFORE UPDATE OR DELETE ON resource_tombstone
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER resource_tombstone_no_truncate BEFORE TRUNCATE ON resource_tombstone
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

-- A patient's compartment is found by the head's patients column (retention's candidates).
CREATE INDEX resource_patients_ix ON resource USING gin (patients);

-- Versions: never updated; deleted only by the disposal function. Same trigger name as before (V1), so that tools and
-- tests that name it keep working.
CREATE FUNCTION mamori_refuse_version_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_user = 'mamori_disposer' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'mamori: % on % is refused: stored versions are append-only (removed only by an approved disposal)',
    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER resource_version_no_update_delete ON resource_version;
CREATE TRIGGER resource_version_no_update_delete BEFORE UPDATE OR DELETE ON resource_version
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_version_change();

-- A disposed resource's type and id are not used again.
CREATE FUNCTION mamori_refuse_disposed_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM resource_tombstone t WHERE t.res_type = NEW.res_type AND t.res_id = NEW.res_id) THEN
    RAISE EXCEPTION 'mamori: %/% was disposed of; its id is not used again', NEW.res_type, NEW.res_id
      USING ERRCODE = 'unique_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER resource_not_disposed BEFORE INSERT ON resource
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_disposed_id();

CREATE FUNCTION mamori_dispose(p_batch bigint, p_by text, p_by_name text)
RETURNS TABLE (o_type text, o_id text, o_version integer, o_recorded_at timestamptz, o_content bytea, o_chain bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  b_status text;
  approvers integer;
  it record;
  h_pk bigint;
  h_version integer;
  h_chain bytea;
  v record;
BEGIN
  SELECT d.status INTO b_status FROM disposal_batch d WHERE d.batch_id = p_batch FOR UPDATE;
  IF b_status IS NULL THEN
    RAISE EXCEPTION 'mamori-disposal: batch % does not exist', p_batch USING ERRCODE = 'MD001';
  END IF;
  IF b_status <> 'proposed' THEN
    RAISE EXCEPTION 'mamori-disposal: batch % is %', p_batch, b_status USING ERRCODE = 'MD001';
  END IF;
  SELECT count(DISTINCT a.approver) INTO approvers FROM disposal_approval a WHERE a.batch_id = p_batch;
  IF approvers < 2 THEN
    RAISE EXCEPTION 'mamori-disposal: batch % has % approvals, two are needed', p_batch, approvers
      USING ERRCODE = 'MD001';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM disposal_item i WHERE i.batch_id = p_batch) THEN
    RAISE EXCEPTION 'mamori-disposal: batch % is empty', p_batch USING ERRCODE = 'MD001';
  END IF;
  FOR it IN SELECT i.res_type, i.res_id, i.versions, i.last_chain FROM disposal_item i
            WHERE i.batch_id = p_batch ORDER BY i.res_type, i.res_id LOOP
    h_pk := NULL;
    SELECT r.res_pk, r.version INTO h_pk, h_version FROM resource r
     WHERE r.res_type = it.res_type AND r.res_id = it.res_id FOR UPDATE;
    IF h_pk IS NULL THEN
      RAISE EXCEPTION 'mamori-stale: %/% no longer exists', it.res_type, it.res_id USING ERRCODE = 'MD002';
    END IF;
    SELECT rv.chain_sha256 INTO h_chain FROM resource_version rv WHERE rv.res_pk = h_pk AND rv.version = h_version;
    IF h_version <> it.versions OR h_chain IS DISTINCT FROM it.last_chain THEN
      RAISE EXCEPTION 'mamori-stale: %/% changed after the batch was proposed (version % now, % then)',
        it.res_type, it.res_id, h_version, it.versions USING ERRCODE = 'MD002';
    END IF;
    DELETE FROM sp_string WHERE res_pk = h_pk;
    DELETE FROM sp_token WHERE res_pk = h_pk;
    DELETE FROM sp_date WHERE res_pk = h_pk;
    DELETE FROM sp_reference WHERE res_pk = h_pk;
    DELETE FROM sp_quantity WHERE res_pk = h_pk;
    DELETE FROM sp_uri WHERE res_pk = h_pk;
    DELETE FROM encounter_care WHERE res_pk = h_pk;
    FOR v IN DELETE FROM resource_version rv WHERE rv.res_pk = h_pk
             RETURNING rv.res_type, rv.res_id, rv.version, rv.recorded_at, rv.content_sha256, rv.chain_sha256 LOOP
      o_type := v.res_type; o_id := v.res_id; o_version := v.version; o_recorded_at := v.recorded_at;
      o_content := v.content_sha256; o_chain := v.chain_sha256;
      RETURN NEXT;
    END LOOP;
    DELETE FROM resource WHERE res_pk = h_pk;
    INSERT INTO resource_tombstone (res_type, res_id, versions, last_chain, batch_id, disposed_at)
    VALUES (it.res_type, it.res_id, it.versions, it.last_chain, p_batch, now());
  END LOOP;
  -- DISPOSAL-5, checked again in the same transaction: nothing left may reference what this batch removed.
  SELECT s.res_type || ' ' || i.res_type || '/' || i.res_id INTO b_status
    FROM disposal_item i JOIN sp_reference s ON s.target_type = i.res_type AND s.target_id = i.res_id
   WHERE i.batch_id = p_batch LIMIT 1;
  IF b_status IS NOT NULL THEN
    RAISE EXCEPTION 'mamori-stale: a % still references % after the batch was proposed', split_part(b_status, ' ', 1),
      split_part(b_status, ' ', 2) USING ERRCODE = 'MD002';
  END IF;
  UPDATE disposal_batch d SET status = 'executed', closed_by = p_by, closed_name = p_by_name, closed_at = now()
   WHERE d.batch_id = p_batch;
END
$$;

REVOKE ALL ON FUNCTION mamori_dispose(bigint, text, text) FROM PUBLIC;

GRANT USAGE ON SCHEMA public TO mamori_disposer;
GRANT SELECT, DELETE ON resource, resource_version, sp_string, sp_token, sp_date, sp_reference, sp_quantity, sp_uri,
    encounter_care TO mamori_disposer;
GRANT SELECT, INSERT, UPDATE ON place_version TO mamori_disposer;
-- SELECT ... FOR UPDATE on the head needs UPDATE; the function never updates a head.
GRANT UPDATE ON resource TO mamori_disposer;
GRANT SELECT, INSERT ON resource_tombstone TO mamori_disposer;
GRANT SELECT, UPDATE ON disposal_batch TO mamori_disposer;
GRANT SELECT ON disposal_item, disposal_approval TO mamori_disposer;
GRANT SELECT ON resource_tombstone TO mamori_app;

-- The owner hands the function to mamori_disposer (which needs membership for a moment), then gives the membership
-- back, so that the owner's login cannot SET ROLE mamori_disposer (it could still drop the trigger: ADR 0011 says
-- what verify-records and `mamori retention verify` catch then).
-- A function's new owner needs CREATE on its schema (not granted to PUBLIC since PostgreSQL 15): only for the moment.
GRANT mamori_disposer TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO mamori_disposer;
ALTER FUNCTION mamori_dispose(bigint, text, text) OWNER TO mamori_disposer;
REVOKE CREATE ON SCHEMA public FROM mamori_disposer;
-- EXECUTE for the owner user (the server's owner login) only, granted after the hand-over: a grant made before it
-- would pass to the new owner with the function.
GRANT EXECUTE ON FUNCTION mamori_dispose(bigint, text, text) TO CURRENT_USER;
REVOKE mamori_disposer FROM CURRENT_USER;
