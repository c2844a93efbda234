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

-- A person's access version (PersonContexts.accessVersionSql, read by the session check with every request) now
-- also sums the versions of the places where the person holds a role.
