-- Review marks of the compliance console's executive dashboard (issue 20). Owned by the compliance capability.
--  * compliance_review: one row each time an administrator records that the dashboard was reviewed (見直しを記録),
--    so that "what changed since the last review" has a fixed point (GOV-2: evaluation and review; GOV-7; GOV-5: results
--    documented so third parties can verify them). Rows are only ever added; each is also an audit entry written in
--    the same transaction.
CREATE TABLE compliance_review (
  review_id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  reviewer      text        NOT NULL CHECK (length(reviewer) BETWEEN 1 AND 200),
  reviewer_name text        NOT NULL CHECK (length(reviewer_name) BETWEEN 1 AND 200),
  note          text        CHECK (note IS NULL OR length(note) <= 2000),
  recorded_at   timestamptz NOT NULL
);
CREATE TRIGGER compliance_review_frozen BEFORE UPDATE OR DELETE ON compliance_review
  FOR EACH ROW EXECUTE FUNCTION mamori_compliance_refuse();
CREATE TRIGGER compliance_review_no_truncate BEFORE TRUNCATE ON compliance_review
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

GRANT SELECT, INSERT ON compliance_review TO mamori_app;
