-- Encounter relationships kept with a person's context (ADR 0005, "Fifth part").
--
-- A person's context (roles, care assignments, privileges, break-glass uses) is kept by each server process until
-- the person's access version changes. It now also holds the current and recent encounters of the departments and
-- wards where the person holds a role, so that deciding whether an encounter relates them to a patient needs no
-- query. For that, every change of encounter_care (an admission, a transfer, a discharge, a correction) moves a
-- version of each place it touches, and a person's access version includes the versions of their places.

CREATE TABLE place_version (
  place    text   PRIMARY KEY,
  version  bigint NOT NULL
);
GRANT SELECT, INSERT, UPDATE ON place_version TO mamori_app;

-- Once per statement and place, in the order of the places, so that concurrent writers lock the rows in one order.
CREATE FUNCTION mamori_bump_place_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO place_version AS v (place, version)
    SELECT d.place, 1 FROM (SELECT DISTINCT place FROM changed) d ORDER BY d.place
    ON CONFLICT (place) DO UPDATE SET version = v.version + 1;
  RETURN NULL;
END
$$;
-- A trigger with transition tables serves one event: one for the rows a write adds, one for those it removes.
CREATE TRIGGER encounter_care_added AFTER INSERT ON encounter_care
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION mamori_bump_place_version();
CREATE TRIGGER encounter_care_removed AFTER DELETE ON encounter_care
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION mamori_bump_place_version();

-- The one definition of a person's access version, read by the session check with every request: it changes with
-- every change of the person's roles, care assignments, privileges and break-glass uses, of the policy as a whole,
-- and of the encounters of every department or ward where the person holds a role. The first part only grows and
-- changes whenever the set of places does; with it unchanged, the second part only grows: the pair, packed as
-- first * 2^32 + second, never repeats (while the second stays below 2^32 changes). PL/pgSQL so that each server
-- connection plans it once (a SQL function's body is planned again at every call before PostgreSQL 18).
CREATE FUNCTION mamori_access_version(a uuid) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT coalesce(sum(v.version), 0) FROM access_version v
           WHERE v.account_id IN (a, '00000000-0000-0000-0000-000000000000')) * 4294967296
       + (SELECT coalesce(sum(p.version), 0) FROM place_version p
           WHERE p.place IN (SELECT ra.department FROM role_assignment ra
                              WHERE ra.account_id = a AND ra.revoked_at IS NULL));
END
$$;
REVOKE ALL ON FUNCTION mamori_access_version(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mamori_access_version(uuid) TO mamori_app;
