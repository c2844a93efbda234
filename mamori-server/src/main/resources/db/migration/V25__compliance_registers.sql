-- Registers (台帳) of the compliance console (issue 20; GOV-29, GOV-30, GOV-28, GOV-32, HR-6, GOV-15, INC-6 …).
-- Owned by the compliance capability.
--  * compliance_register_version: every version of every row of every register (devices and software, vendors and
--    contracts, appointments, the contact chart, BCP and drills, training, risks, incidents). A row is numbered within
--    its register (entry, 1, 2, …); its current state is its newest version; retiring a row is a version with
--    retired = true, never a DELETE. Fields are a JSON object the register's kind has validated (jp.mamori.compliance
--    .RegisterKind); review_on is the row's next review date (次回見直し日). Append-only, like V23 and V24: each
--    version is also an audit entry written in the same transaction (GOV-5: records third parties can verify).
CREATE TABLE compliance_register_version (
  seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  register    text        NOT NULL CHECK (register ~ '^[a-z][a-z_]{0,31}$'),
  entry       integer     NOT NULL CHECK (entry >= 1),
  version     integer     NOT NULL CHECK (version >= 1),
  fields      jsonb       NOT NULL CHECK (jsonb_typeof(fields) = 'object' AND octet_length(fields::text) <= 65536),
  review_on   date        NOT NULL,
  retired     boolean     NOT NULL DEFAULT false,
  author      text        NOT NULL CHECK (length(author) BETWEEN 1 AND 200),
  author_name text        NOT NULL CHECK (length(author_name) BETWEEN 1 AND 200),
  at          timestamptz NOT NULL,
  reason      text        CHECK (reason IS NULL OR length(reason) <= 1000),
  CHECK (NOT retired OR reason IS NOT NULL),
  UNIQUE (register, entry, version)
);
CREATE INDEX compliance_register_version_current ON compliance_register_version (register, entry, version DESC);
CREATE TRIGGER compliance_register_version_no_update_delete BEFORE UPDATE OR DELETE ON compliance_register_version
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER compliance_register_version_no_truncate BEFORE TRUNCATE ON compliance_register_version
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
GRANT SELECT, INSERT ON compliance_register_version TO mamori_app;
