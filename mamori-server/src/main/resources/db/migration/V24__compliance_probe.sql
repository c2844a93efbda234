-- Live compliance probes (issue 20). Owned by the compliance capability.
--  * compliance_probe_change: one row each time a probe's status changes (the first evaluation of a probe included),
--    so that a checklist item's history shows when it turned red or green again. Append-only: the evidence of when a
--    control failed must not be rewritten afterwards (GOV-5: results documented so third parties can verify them).
CREATE TABLE compliance_probe_change (
  seq      bigserial   PRIMARY KEY,
  probe_id text        NOT NULL CHECK (length(probe_id) BETWEEN 1 AND 100),
  status   text        NOT NULL CHECK (status IN ('PASS', 'PARTIAL', 'FAIL', 'UNKNOWN')),
  summary  text        NOT NULL CHECK (length(summary) BETWEEN 1 AND 4000),
  at       timestamptz NOT NULL
);
CREATE INDEX compliance_probe_change_probe_ix ON compliance_probe_change (probe_id, seq);
CREATE TRIGGER compliance_probe_change_no_update_delete BEFORE UPDATE OR DELETE ON compliance_probe_change
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER compliance_probe_change_no_truncate BEFORE TRUNCATE ON compliance_probe_change
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
GRANT SELECT, INSERT ON compliance_probe_change TO mamori_app;
GRANT USAGE ON SEQUENCE compliance_probe_change_seq_seq TO mamori_app;
