-- Answers to the compliance checklists (issue 20; GOV-16, GOV-28 … GOV-40). Owned by the compliance capability.
--  * compliance_answer: every answer ever given to an item of a framework version (はい・いいえ・一部・該当なし), with
--    the date checked, the target date of a いいえ (within the version's fiscal year), the reviewer and a note. Rows
--    are only ever added: the newest row of an item is its answer, the others its history. Each row is also an entry
--    of the audit trail, written in the same transaction.
CREATE TABLE compliance_answer (
  answer_id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  framework     text        NOT NULL CHECK (length(framework) BETWEEN 1 AND 64),
  version       text        NOT NULL CHECK (length(version) BETWEEN 1 AND 16),
  item          text        NOT NULL CHECK (length(item) BETWEEN 1 AND 64),
  answer        text        NOT NULL CHECK (answer IN ('yes', 'no', 'partial', 'na')),
  checked_on    date        NOT NULL,
  target_on     date,
  note          text        CHECK (note IS NULL OR length(note) <= 2000),
  reviewer      text        NOT NULL CHECK (length(reviewer) BETWEEN 1 AND 200),
  reviewer_name text        NOT NULL CHECK (length(reviewer_name) BETWEEN 1 AND 200),
  recorded_at   timestamptz NOT NULL,
  CHECK (answer <> 'no' OR target_on IS NOT NULL)
);
CREATE INDEX compliance_answer_item ON compliance_answer (framework, version, item, answer_id DESC);

CREATE FUNCTION mamori_compliance_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'mamori: % on % is refused: answers are only ever added', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER compliance_answer_frozen BEFORE UPDATE OR DELETE ON compliance_answer
  FOR EACH ROW EXECUTE FUNCTION mamori_compliance_refuse();

GRANT SELECT, INSERT ON compliance_answer TO mamori_app;
