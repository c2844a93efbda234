-- Access control, second part (ADR 0005):
--  1. What the access decision reads about a resource (its patients, document type codings and meta.security
--     labels) is kept on the resource head, so that a person's search filters rows by their own columns
--     instead of probing the index tables once or twice per row.
--  2. Care relationships derived from encounters: a current or recent encounter names the departments and
--     wards it belongs to; people holding a role there relate to the patient.
--  3. A version per account (and one for the whole policy) that changes with every change of roles,
--     permissions, care assignments, privileges and break-glass uses, so that servers may keep what they read about a person
--     until it changes.

ALTER TABLE resource
  ADD COLUMN patients  text[] NOT NULL DEFAULT '{}',
  ADD COLUMN doc_codes text[] NOT NULL DEFAULT '{}',
  ADD COLUMN labels    text[] NOT NULL DEFAULT '{}';

UPDATE resource r SET
  patients = ARRAY(SELECT DISTINCT x FROM (
      SELECT p.target_id AS x FROM sp_reference p WHERE p.res_pk = r.res_pk AND p.param IN ('patient', 'subject')
        AND p.target_type = 'Patient' AND p.target_id IS NOT NULL
      UNION ALL SELECT r.res_id WHERE r.res_type = 'Patient') s ORDER BY x),
  doc_codes = ARRAY(SELECT DISTINCT t.system || '|' || t.code FROM sp_token t WHERE t.res_pk = r.res_pk
      AND t.param = 'type' AND t.system IS NOT NULL AND t.code IS NOT NULL ORDER BY 1),
  labels = ARRAY(SELECT DISTINCT t.code FROM sp_token t WHERE t.res_pk = r.res_pk AND t.param = '_security'
      AND t.code IS NOT NULL ORDER BY 1)
WHERE NOT r.deleted;

-- The departments and wards an encounter belongs to, one row each, for its current version only (an index
-- table like sp_*: rewritten with every version). ends is NULL while the encounter lasts.
CREATE TABLE encounter_care (
  res_pk      bigint      NOT NULL REFERENCES resource,
  patient_id  text        NOT NULL,
  place       text        NOT NULL,
  starts      timestamptz,
  ends        timestamptz
);
-- No unique key: like the sp_* tables, a version's rows are deleted and inserted in the one statement that
-- writes the version, where a unique key would see the rows being replaced.
CREATE INDEX encounter_care_pk_ix ON encounter_care (res_pk);
CREATE INDEX encounter_care_patient_ix ON encounter_care (patient_id, place, ends);
CREATE INDEX encounter_care_place_ix ON encounter_care (place, ends) INCLUDE (patient_id);
GRANT SELECT, INSERT, DELETE ON encounter_care TO mamori_app;

-- How long after an encounter ends its people still relate to the patient (days; 0: only while it lasts).
ALTER TABLE role ADD COLUMN recent_encounter_days integer NOT NULL DEFAULT 30
  CHECK (recent_encounter_days BETWEEN 0 AND 3650);

-- Department names are compared with encounters' department and ward names, NFKC-normalised and trimmed.
UPDATE role_assignment SET department = btrim(normalize(department, NFKC))
  WHERE department <> btrim(normalize(department, NFKC));
UPDATE care_assignment SET department = btrim(normalize(department, NFKC))
  WHERE department IS NOT NULL AND department <> btrim(normalize(department, NFKC));

-- Access versions: account_id = the nil UUID stands for the policy as a whole (roles and permissions).
CREATE TABLE access_version (
  account_id  uuid   PRIMARY KEY,
  version     bigint NOT NULL
);
GRANT SELECT, INSERT, UPDATE ON access_version TO mamori_app;

CREATE FUNCTION mamori_bump_access_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  who uuid;
BEGIN
  IF TG_TABLE_NAME IN ('role_assignment', 'care_assignment', 'sensitivity_privilege', 'break_glass') THEN
    who := CASE WHEN TG_OP = 'DELETE' THEN OLD.account_id ELSE NEW.account_id END;
  ELSE
    who := '00000000-0000-0000-0000-000000000000';
  END IF;
  INSERT INTO access_version AS v (account_id, version) VALUES (who, 1)
    ON CONFLICT (account_id) DO UPDATE SET version = v.version + 1;
  RETURN NULL;
END
$$;
CREATE TRIGGER role_assignment_access_version AFTER INSERT OR UPDATE OR DELETE ON role_assignment
  FOR EACH ROW EXECUTE FUNCTION mamori_bump_access_version();
CREATE TRIGGER care_assignment_access_version AFTER INSERT OR UPDATE OR DELETE ON care_assignment
  FOR EACH ROW EXECUTE FUNCTION mamori_bump_access_version();
CREATE TRIGGER sensitivity_privilege_access_version AFTER INSERT OR UPDATE OR DELETE ON sensitivity_privilege
  FOR EACH ROW EXECUTE FUNCTION mamori_bump_access_version();
CREATE TRIGGER break_glass_access_version AFTER INSERT OR UPDATE ON break_glass
  FOR EACH ROW EXECUTE FUNCTION mamori_bump_access_version();
CREATE TRIGGER role_permission_access_version AFTER INSERT OR UPDATE OR DELETE ON role_permission
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_bump_access_version();
CREATE TRIGGER role_access_version AFTER INSERT OR UPDATE OR DELETE ON role
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_bump_access_version();
