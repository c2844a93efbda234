-- Documents for what only people can do (issue 20; GOV-28, GOV-30, GOV-35 … GOV-37, HR-6, INC-6, DEGRADED-8). Owned
-- by the compliance capability.
--  * compliance_document: one row per version of a document (an appointment, the 運用管理規程, a contract, the BCP,
--    training records, …): what it is, what it supports, the SHA-256 of its file (the file itself lies encrypted in
--    the data folder under that name), who reviewed it when and until when it holds. Rows are only ever added: a
--    replacement is a new version, a withdrawal is a version with status 'withdrawn' and a reason; the newest version
--    of a document is its state. Each row is also an entry of the audit trail, written in the same transaction.
CREATE TABLE compliance_document (
  row_id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  document_id   uuid        NOT NULL,
  version       integer     NOT NULL CHECK (version >= 1),
  status        text        NOT NULL CHECK (status IN ('current', 'withdrawn')),
  kind          text        NOT NULL CHECK (kind ~ '^[a-z-]{1,32}$'),
  title         text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  requirements  text[]      NOT NULL CHECK (cardinality(requirements) <= 40),
  framework     text        CHECK (framework IS NULL OR length(framework) BETWEEN 1 AND 64),
  framework_version text    CHECK (framework_version IS NULL OR length(framework_version) BETWEEN 1 AND 16),
  item          text        CHECK (item IS NULL OR length(item) BETWEEN 1 AND 64),
  sha256        text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size_bytes    bigint      NOT NULL CHECK (size_bytes > 0),
  media_type    text        NOT NULL CHECK (media_type IN ('application/pdf', 'image/png', 'image/jpeg')),
  file_name     text        NOT NULL CHECK (length(file_name) BETWEEN 1 AND 200),
  reviewer      text        CHECK (reviewer IS NULL OR length(reviewer) BETWEEN 1 AND 200),
  reviewed_on   date,
  expires_on    date,
  reason        text        CHECK (reason IS NULL OR length(reason) BETWEEN 1 AND 1000),
  uploaded_by   text        NOT NULL CHECK (length(uploaded_by) BETWEEN 1 AND 200),
  uploaded_by_name text     NOT NULL CHECK (length(uploaded_by_name) BETWEEN 1 AND 200),
  recorded_at   timestamptz NOT NULL,
  UNIQUE (document_id, version),
  CHECK ((reviewer IS NULL) = (reviewed_on IS NULL)),
  CHECK (status <> 'withdrawn' OR reason IS NOT NULL),
  CHECK ((framework IS NULL) = (item IS NULL) AND (framework IS NULL) = (framework_version IS NULL))
);
CREATE INDEX compliance_document_newest ON compliance_document (document_id, version DESC);
CREATE INDEX compliance_document_sha ON compliance_document (sha256);

CREATE TRIGGER compliance_document_no_update_delete BEFORE UPDATE OR DELETE ON compliance_document
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER compliance_document_no_truncate BEFORE TRUNCATE ON compliance_document
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
GRANT SELECT, INSERT ON compliance_document TO mamori_app;
