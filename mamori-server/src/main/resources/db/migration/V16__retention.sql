-- Retention periods per kind of record, legal holds, and disposal batches approved by two administrators
-- (issue 16; STORE-6, DISPOSAL-1, DISPOSAL-5, DISPOSAL-7; ADR 0011). Owned by the retention capability.
--
-- The physical removal itself is records' (V17, mamori_dispose): it reads a batch and its approvals from here and
-- removes only what the batch froze, only when two distinct administrators approved it.

-- One row per kind of record. The FHIR types of each kind are fixed here (a type belongs to one kind; a type no kind
-- names falls under 'other'); an administrator may lengthen or shorten the years, never below law_years.
CREATE TABLE retention_rule (
  kind        text        PRIMARY KEY CHECK (kind ~ '^[a-z][a-z-]{1,40}$'),
  position    integer     NOT NULL,
  name_ja     text        NOT NULL,
  name_en     text        NOT NULL,
  types       text[]      NOT NULL,
  years       integer     NOT NULL CHECK (years BETWEEN 1 AND 100),
  law_years   integer     NOT NULL CHECK (law_years BETWEEN 0 AND 100),
  basis_ja    text        NOT NULL,
  basis_en    text        NOT NULL,
  changed_by  text,
  changed_at  timestamptz,
  CONSTRAINT retention_rule_law_ck CHECK (years >= law_years)
);

INSERT INTO retention_rule (kind, position, name_ja, name_en, types, years, law_years, basis_ja, basis_en) VALUES
  ('medical-record', 1, '診療録', 'Medical record (shinryōroku)',
   '{Encounter,Condition,AllergyIntolerance,Composition,DocumentReference,ClinicalImpression,Procedure,CarePlan,FamilyMemberHistory,EpisodeOfCare,Flag,DetectedIssue,AdverseEvent}',
   5, 5, '医師法第24条第2項（歯科医師法第23条第2項）: 診療録は最後の記載から5年間保存',
   'Medical Practitioners Act art. 24(2) (Dental art. 23(2)): 5 years'),
  ('clinical-records', 2, '診療に関する諸記録', 'Other records of care',
   '{Observation,DiagnosticReport,ImagingStudy,Media,Specimen,ServiceRequest,MedicationRequest,MedicationAdministration,MedicationStatement,Immunization,QuestionnaireResponse,NutritionOrder,DeviceRequest,RiskAssessment,Consent}',
   5, 2, '医療法施行規則第20条第10号: 2年間（病院日誌、処方せん、手術記録、検査所見記録、エックス線写真等）。診療録と一体で参照されるため、既定は診療録と同じ5年',
   'Medical Care Act Enforcement Regulations art. 20(10): 2 years; kept 5 years by default because they are read together with the medical record'),
  ('dispensing-record', 3, '調剤録', 'Dispensing record',
   '{MedicationDispense}',
   5, 3, '薬剤師法第28条第3項: 最終の記入の日から3年間。院内の診療録とともに参照されるため、既定は5年',
   'Pharmacists Act art. 28(3): 3 years from the last entry; 5 by default, read with the medical record'),
  ('patient', 4, '患者基本情報', 'Patient demographics',
   '{Patient,RelatedPerson,Coverage,Account}',
   5, 5, '診療録の一部（氏名・生年月日等）として診療録と同じ5年。患者本人の記録が何も残らないときにだけ廃棄',
   'Part of the medical record (name, birth date): 5 years; disposed of only when nothing else of the patient remains'),
  ('other', 5, 'その他の記録', 'Other records',
   '{}',
   5, 0, '法定の保存期間なし。診療録と同じ5年を既定とする（上記に当てはまらない種類すべて）',
   'No statutory period; 5 years like the medical record (every type not named above)');

-- Legal holds (訴訟等による保存): a patient under hold is never a disposal candidate, whatever the dates say.
CREATE TABLE legal_hold (
  patient_id  text        PRIMARY KEY CHECK (length(patient_id) BETWEEN 1 AND 64),
  reason      text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  held_by     text        NOT NULL,
  held_at     timestamptz NOT NULL
);

-- A disposal batch: a frozen list of resources, proposed by an administrator, approved by two, then executed once.
CREATE TABLE disposal_batch (
  batch_id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  status         text        NOT NULL DEFAULT 'proposed'
                             CHECK (status IN ('proposed', 'rejected', 'executed')),
  reason         text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  proposed_by    text        NOT NULL,
  proposed_name  text        NOT NULL,
  proposed_at    timestamptz NOT NULL,
  rules          text        NOT NULL,  -- the retention rules in force when proposed (JSON, for the certificate)
  closed_by      text,
  closed_name    text,
  closed_at      timestamptz,
  close_reason   text,
  CONSTRAINT disposal_batch_closed_ck CHECK ((status = 'proposed') = (closed_at IS NULL))
);
CREATE INDEX disposal_batch_status_ix ON disposal_batch (status, batch_id);

CREATE TABLE disposal_item (
  batch_id     bigint      NOT NULL REFERENCES disposal_batch,
  position     integer     NOT NULL,
  patient_id   text        NOT NULL,
  patient_name text,
  res_type     text        NOT NULL,
  res_id       text        NOT NULL,
  versions     integer     NOT NULL CHECK (versions > 0),
  last_chain   bytea       NOT NULL CHECK (length(last_chain) = 32),
  last_entry   timestamptz NOT NULL,
  PRIMARY KEY (batch_id, position),
  CONSTRAINT disposal_item_uk UNIQUE (batch_id, res_type, res_id)
);
-- A resource is in at most one open batch: the application checks it; the index makes that check cheap.
CREATE INDEX disposal_item_resource_ix ON disposal_item (res_type, res_id);

CREATE TABLE disposal_approval (
  batch_id     bigint      NOT NULL REFERENCES disposal_batch,
  approver     text        NOT NULL,
  approver_name text       NOT NULL,
  approved_at  timestamptz NOT NULL,
  PRIMARY KEY (batch_id, approver)
);

-- Items and approvals are never changed once written.
CREATE FUNCTION mamori_retention_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'mamori: % on % is refused: disposal items and approvals are never changed', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER disposal_item_frozen BEFORE UPDATE OR DELETE ON disposal_item
  FOR EACH ROW EXECUTE FUNCTION mamori_retention_refuse();
CREATE TRIGGER disposal_approval_frozen BEFORE UPDATE OR DELETE ON disposal_approval
  FOR EACH ROW EXECUTE FUNCTION mamori_retention_refuse();

GRANT SELECT, UPDATE ON retention_rule TO mamori_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON legal_hold TO mamori_app;
GRANT SELECT, INSERT, UPDATE ON disposal_batch TO mamori_app;
GRANT SELECT, INSERT ON disposal_item, disposal_approval TO mamori_app;
