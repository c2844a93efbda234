-- The patient's own copy (開示請求; issue 23; PHR-1, PHR-3, AUDIT-1): the ledger of disclosures. Owned by the disclosure
-- capability (jp.mamori.disclosure). A request (who asked, their relationship, when it was received, what was asked),
-- each package produced for it (what the institution decided to give: record types, a date range, the parts withheld
-- with their reasons, whether the access report was added and for which period, the SHA-256 of every file and of the
-- ZIP, whether the PDFs were sealed, who produced it and when) and each hand-over (who handed it over, when, how) are
-- rows of their own. Append-only (triggers refuse UPDATE, DELETE, TRUNCATE): a correction is a new row, never a
-- silent change. The package's bytes are not kept here: they are produced again from the record when needed, and the
-- hashes say whether a copy is the one that was given.
CREATE TABLE disclosure_request (
  request_id     uuid        PRIMARY KEY,
  patient_id     text        NOT NULL CHECK (length(patient_id) BETWEEN 1 AND 64),
  requester_kind text        NOT NULL CHECK (requester_kind IN ('patient', 'representative', 'other')),
  requester_name text        NOT NULL CHECK (length(requester_name) BETWEEN 1 AND 200),
  relationship   text        CHECK (relationship IS NULL OR length(relationship) <= 100),
  received_on    date        NOT NULL,
  asked          text        NOT NULL CHECK (length(asked) BETWEEN 1 AND 2000),
  note           text        CHECK (note IS NULL OR length(note) <= 2000),
  recorded_by    text        NOT NULL CHECK (length(recorded_by) BETWEEN 1 AND 200),
  recorded_by_name text      NOT NULL CHECK (length(recorded_by_name) BETWEEN 1 AND 200),
  recorded_at    timestamptz NOT NULL,
  CHECK (requester_kind = 'patient' OR relationship IS NOT NULL)
);
CREATE INDEX disclosure_request_patient ON disclosure_request (patient_id, recorded_at);

CREATE TABLE disclosure_package (
  package_id      uuid        PRIMARY KEY,
  request_id      uuid        NOT NULL REFERENCES disclosure_request,
  types           text[]      NOT NULL CHECK (cardinality(types) BETWEEN 1 AND 20),
  range_from      date,
  range_to        date,
  withheld        jsonb       NOT NULL,
  access_from     date,
  access_to       date,
  files           jsonb       NOT NULL,
  zip_sha256      bytea       NOT NULL CHECK (length(zip_sha256) = 32),
  resources       integer     NOT NULL CHECK (resources >= 0),
  sealed          boolean     NOT NULL,
  produced_by     text        NOT NULL CHECK (length(produced_by) BETWEEN 1 AND 200),
  produced_by_name text       NOT NULL CHECK (length(produced_by_name) BETWEEN 1 AND 200),
  produced_at     timestamptz NOT NULL,
  CHECK (range_from IS NULL OR range_to IS NULL OR range_from <= range_to),
  CHECK ((access_from IS NULL) = (access_to IS NULL) AND (access_from IS NULL OR access_from <= access_to))
);
CREATE INDEX disclosure_package_request ON disclosure_package (request_id, produced_at);

CREATE TABLE disclosure_handover (
  package_id      uuid        PRIMARY KEY REFERENCES disclosure_package,
  handed_by       text        NOT NULL CHECK (length(handed_by) BETWEEN 1 AND 200),
  handed_by_name  text        NOT NULL CHECK (length(handed_by_name) BETWEEN 1 AND 200),
  handed_at       timestamptz NOT NULL,
  how             text        NOT NULL CHECK (length(how) BETWEEN 1 AND 500)
);

CREATE TRIGGER disclosure_request_no_update_delete BEFORE UPDATE OR DELETE ON disclosure_request
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER disclosure_request_no_truncate BEFORE TRUNCATE ON disclosure_request
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER disclosure_package_no_update_delete BEFORE UPDATE OR DELETE ON disclosure_package
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER disclosure_package_no_truncate BEFORE TRUNCATE ON disclosure_package
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER disclosure_handover_no_update_delete BEFORE UPDATE OR DELETE ON disclosure_handover
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER disclosure_handover_no_truncate BEFORE TRUNCATE ON disclosure_handover
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
GRANT SELECT, INSERT ON disclosure_request, disclosure_package, disclosure_handover TO mamori_app;
