-- Access model for people (ACCESS-1..5, ACCESS-12, ACCESS-13): information categories (情報区分), roles that
-- bundle (category, action) permissions, role assignments per department, care relationships, and
-- privileges for sensitivity labels. Categories, rules, roles and labels are data, not code.
-- Every change is written to access_change, which is append-only like account_change.

-- 情報区分. "clinical" categories are reached only through a care relationship and only by roles that may
-- hold clinical content.
CREATE TABLE information_category (
  code        text    PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,40}$'),
  name_ja     text    NOT NULL CHECK (length(name_ja) BETWEEN 1 AND 100),
  name_en     text    NOT NULL CHECK (length(name_en) BETWEEN 1 AND 100),
  clinical    boolean NOT NULL,
  sort_order  integer NOT NULL DEFAULT 1000
);
INSERT INTO information_category (code, name_ja, name_en, clinical, sort_order) VALUES
  ('demographics',   '患者基本情報',     'Demographics',            false, 10),
  ('encounters',     '受診・予約',       'Encounters and appointments', false, 20),
  ('clinical_notes', '診療記録',         'Clinical notes',          true,  30),
  ('nursing',        '看護記録',         'Nursing records',         true,  40),
  ('orders',         'オーダ・処方',     'Orders and prescriptions', true, 50),
  ('medication',     '薬剤',             'Medication',              true,  60),
  ('results',        '検査結果・画像',   'Results and imaging',     true,  70),
  ('billing',        '医事・請求',       'Billing',                 false, 80),
  ('administrative', '施設・職員情報',   'Administrative',          false, 90),
  ('audit',          '監査記録',         'Audit records',           false, 100),
  ('other',          'その他（未分類）', 'Other (unclassified)',    true,  1000);

-- Resource type (and optionally a document type coding) → category. The most specific rule wins:
-- (type, system, code), then (type), then the fallback type '*'. Unclassified data is treated as clinical.
CREATE TABLE category_rule (
  rule_id       bigserial PRIMARY KEY,
  resource_type text NOT NULL CHECK (resource_type = '*' OR resource_type ~ '^[A-Z][A-Za-z]{1,63}$'),
  doc_system    text,
  doc_code      text,
  category      text NOT NULL REFERENCES information_category,
  CHECK ((doc_system IS NULL) = (doc_code IS NULL))
);
CREATE UNIQUE INDEX category_rule_ux ON category_rule (resource_type, coalesce(doc_system, ''), coalesce(doc_code, ''));
INSERT INTO category_rule (resource_type, category) VALUES
  ('*', 'other'),
  ('Patient', 'demographics'), ('RelatedPerson', 'demographics'), ('Person', 'demographics'),
  ('Encounter', 'encounters'), ('Appointment', 'encounters'), ('AppointmentResponse', 'encounters'),
  ('EpisodeOfCare', 'encounters'),
  ('Composition', 'clinical_notes'), ('DocumentReference', 'clinical_notes'), ('ClinicalImpression', 'clinical_notes'),
  ('Condition', 'clinical_notes'), ('AllergyIntolerance', 'clinical_notes'), ('Procedure', 'clinical_notes'),
  ('FamilyMemberHistory', 'clinical_notes'), ('CarePlan', 'clinical_notes'), ('CareTeam', 'clinical_notes'),
  ('Goal', 'clinical_notes'), ('QuestionnaireResponse', 'clinical_notes'), ('RiskAssessment', 'clinical_notes'),
  ('Flag', 'clinical_notes'), ('DetectedIssue', 'clinical_notes'), ('AdverseEvent', 'clinical_notes'),
  ('Consent', 'clinical_notes'), ('Communication', 'clinical_notes'),
  ('MedicationRequest', 'orders'), ('ServiceRequest', 'orders'), ('NutritionOrder', 'orders'),
  ('DeviceRequest', 'orders'), ('VisionPrescription', 'orders'),
  ('MedicationDispense', 'medication'), ('MedicationAdministration', 'medication'),
  ('MedicationStatement', 'medication'), ('Immunization', 'medication'),
  ('Observation', 'results'), ('DiagnosticReport', 'results'), ('ImagingStudy', 'results'), ('Specimen', 'results'),
  ('Media', 'results'), ('MolecularSequence', 'results'),
  ('Claim', 'billing'), ('ClaimResponse', 'billing'), ('Coverage', 'billing'), ('ChargeItem', 'billing'),
  ('Account', 'billing'), ('Invoice', 'billing'), ('ExplanationOfBenefit', 'billing'),
  ('CoverageEligibilityRequest', 'billing'), ('CoverageEligibilityResponse', 'billing'),
  ('Organization', 'administrative'), ('Practitioner', 'administrative'), ('PractitionerRole', 'administrative'),
  ('Location', 'administrative'), ('HealthcareService', 'administrative'), ('Endpoint', 'administrative'),
  ('Schedule', 'administrative'), ('Slot', 'administrative'), ('Medication', 'administrative'),
  ('Device', 'administrative'),
  ('AuditEvent', 'audit');
-- Nursing documents (LOINC document types) on the note-bearing resources.
INSERT INTO category_rule (resource_type, doc_system, doc_code, category)
SELECT t, 'http://loinc.org', c, 'nursing'
  FROM unnest(ARRAY['Composition', 'DocumentReference']) AS t,
       unnest(ARRAY['34746-8', '28651-8', '34745-0']) AS c;

CREATE TABLE role (
  code             text        PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,40}$'),
  name_ja          text        NOT NULL CHECK (length(name_ja) BETWEEN 1 AND 100),
  name_en          text        NOT NULL CHECK (length(name_en) BETWEEN 1 AND 100),
  builtin          boolean     NOT NULL,
  clinical_content boolean     NOT NULL,
  default_scope    text        NOT NULL CHECK (default_scope IN ('department', 'ward', 'hospital')),
  created_at       timestamptz NOT NULL,
  created_by       text        NOT NULL
);
INSERT INTO role (code, name_ja, name_en, builtin, clinical_content, default_scope, created_at, created_by) VALUES
  ('physician',     '医師',           'Physician',             true, true,  'department', now(), 'migration'),
  ('dentist',       '歯科医師',       'Dentist',               true, true,  'department', now(), 'migration'),
  ('nurse',         '看護師',         'Nurse',                 true, true,  'ward',       now(), 'migration'),
  ('pharmacist',    '薬剤師',         'Pharmacist',            true, true,  'hospital',   now(), 'migration'),
  ('clinical_lab',  '臨床検査技師',   'Clinical laboratory',   true, true,  'hospital',   now(), 'migration'),
  ('radiology',     '診療放射線技師', 'Radiology',             true, true,  'hospital',   now(), 'migration'),
  ('therapist',     '療法士',         'Therapist',             true, true,  'department', now(), 'migration'),
  ('dietitian',     '管理栄養士',     'Dietitian',             true, true,  'department', now(), 'migration'),
  ('medical_clerk', '医療事務',       'Medical clerk',         true, false, 'hospital',   now(), 'migration'),
  ('clerk',         '事務',           'Clerk',                 true, false, 'hospital',   now(), 'migration'),
  ('system_admin',  'システム管理者', 'System administrator',  true, false, 'hospital',   now(), 'migration'),
  ('auditor',       '監査担当',       'Auditor',               true, false, 'hospital',   now(), 'migration'),
  ('account_admin', 'アカウント管理者', 'Account administrator', true, false, 'hospital', now(), 'migration');

CREATE TABLE role_permission (
  role      text NOT NULL REFERENCES role,
  category  text NOT NULL REFERENCES information_category,
  action    text NOT NULL CHECK (action IN ('read', 'search', 'create', 'update', 'finalize', 'amend',
                                            'entered_in_error', 'export', 'print')),
  PRIMARY KEY (role, category, action)
);

-- A role that may not hold clinical content (system administrators, auditors, clerks) can never be given a
-- clinical category, whoever writes the row.
CREATE FUNCTION mamori_refuse_clinical_permission() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM role r, information_category c
              WHERE r.code = NEW.role AND c.code = NEW.category AND c.clinical AND NOT r.clinical_content) THEN
    RAISE EXCEPTION 'mamori: role % may not hold clinical category %', NEW.role, NEW.category
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER role_permission_no_clinical_for_non_clinical_roles BEFORE INSERT OR UPDATE ON role_permission
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_clinical_permission();

INSERT INTO role_permission (role, category, action)
SELECT r, c, a FROM (VALUES
  -- 医師・歯科医師: read and write clinical notes and orders, finalize and amend them.
  ('physician', 'demographics',   'read,search'),
  ('physician', 'encounters',     'read,search,create,update'),
  ('physician', 'clinical_notes', 'read,search,create,update,finalize,amend,entered_in_error,print'),
  ('physician', 'nursing',        'read,search'),
  ('physician', 'orders',         'read,search,create,update,finalize,amend,entered_in_error,print'),
  ('physician', 'medication',     'read,search'),
  ('physician', 'results',        'read,search,finalize,print'),
  ('dentist',   'demographics',   'read,search'),
  ('dentist',   'encounters',     'read,search,create,update'),
  ('dentist',   'clinical_notes', 'read,search,create,update,finalize,amend,entered_in_error,print'),
  ('dentist',   'orders',         'read,search,create,update,finalize,amend,entered_in_error,print'),
  ('dentist',   'medication',     'read,search'),
  ('dentist',   'results',        'read,search,print'),
  -- 看護師: nursing records; reads notes, orders, results; records administrations.
  ('nurse', 'demographics',   'read,search'),
  ('nurse', 'encounters',     'read,search'),
  ('nurse', 'nursing',        'read,search,create,update,finalize,amend,entered_in_error,print'),
  ('nurse', 'clinical_notes', 'read,search'),
  ('nurse', 'orders',         'read,search'),
  ('nurse', 'medication',     'read,search,create,update'),
  ('nurse', 'results',        'read,search'),
  -- 薬剤師: medication data; reads orders and the results needed to check them.
  ('pharmacist', 'demographics', 'read,search'),
  ('pharmacist', 'orders',       'read,search'),
  ('pharmacist', 'medication',   'read,search,create,update,finalize,amend,entered_in_error,print'),
  ('pharmacist', 'results',      'read,search'),
  ('pharmacist', 'clinical_notes', 'read'),
  ('clinical_lab', 'demographics', 'read,search'),
  ('clinical_lab', 'orders',       'read,search'),
  ('clinical_lab', 'results',      'read,search,create,update,finalize,amend,entered_in_error'),
  ('radiology', 'demographics', 'read,search'),
  ('radiology', 'orders',       'read,search'),
  ('radiology', 'results',      'read,search,create,update,finalize,amend,entered_in_error'),
  ('therapist', 'demographics',   'read,search'),
  ('therapist', 'clinical_notes', 'read,search,create,update,finalize'),
  ('therapist', 'orders',         'read,search'),
  ('therapist', 'results',        'read,search'),
  ('dietitian', 'demographics',   'read,search'),
  ('dietitian', 'clinical_notes', 'read,search,create,update,finalize'),
  ('dietitian', 'orders',         'read,search'),
  ('dietitian', 'results',        'read,search'),
  -- 医療事務・事務: demographics, encounters, billing; never clinical notes.
  ('medical_clerk', 'demographics',   'read,search,create,update,print'),
  ('medical_clerk', 'encounters',     'read,search,create,update,print'),
  ('medical_clerk', 'billing',        'read,search,create,update,finalize,amend,export,print'),
  ('medical_clerk', 'administrative', 'read,search'),
  ('clerk', 'demographics',   'read,search,create,update'),
  ('clerk', 'encounters',     'read,search,create,update'),
  ('clerk', 'administrative', 'read,search'),
  -- システム管理者: configuration and directory data, no clinical content.
  ('system_admin', 'administrative', 'read,search,create,update,export'),
  -- 監査担当: audit reports, no clinical content.
  ('auditor', 'audit', 'read,search,export,print'),
  ('account_admin', 'administrative', 'read,search')
) AS p(r, c, actions), unnest(string_to_array(actions, ',')) AS a;

-- Which role a newly created account is offered for each qualification.
CREATE TABLE qualification_default_role (
  qualification text NOT NULL REFERENCES qualification,
  role          text NOT NULL REFERENCES role,
  PRIMARY KEY (qualification, role)
);
INSERT INTO qualification_default_role (qualification, role) VALUES
  ('physician', 'physician'), ('dentist', 'dentist'), ('pharmacist', 'pharmacist'),
  ('nurse', 'nurse'), ('midwife', 'nurse'), ('public_health_nurse', 'nurse'), ('assistant_nurse', 'nurse'),
  ('clinical_lab_tech', 'clinical_lab'), ('radiological_tech', 'radiology'),
  ('physical_therapist', 'therapist'), ('occupational_therapist', 'therapist'),
  ('registered_dietitian', 'dietitian'), ('medical_clerk', 'medical_clerk'), ('clerk', 'clerk'),
  ('system_administrator', 'system_admin');

-- A person holds a role in a department (or ward). Rows are never deleted: revoking sets revoked_at.
-- An assignment that needs four eyes is pending (approved_at IS NULL) until a different administrator approves.
CREATE TABLE role_assignment (
  assignment_id uuid        PRIMARY KEY,
  account_id    uuid        NOT NULL REFERENCES account,
  role          text        NOT NULL REFERENCES role,
  department    text        NOT NULL CHECK (length(department) BETWEEN 1 AND 100),
  scope         text        NOT NULL CHECK (scope IN ('department', 'ward', 'hospital')),
  four_eyes     boolean     NOT NULL,
  granted_by    uuid        NOT NULL REFERENCES account,
  granted_at    timestamptz NOT NULL,
  approved_by   uuid        REFERENCES account,
  approved_at   timestamptz,
  revoked_at    timestamptz,
  revoked_by    uuid        REFERENCES account,
  CHECK ((approved_by IS NULL) = (approved_at IS NULL)),
  CHECK ((revoked_by IS NULL) = (revoked_at IS NULL)),
  CHECK (NOT four_eyes OR approved_by IS NULL OR (approved_by <> granted_by AND approved_by <> account_id))
);
CREATE UNIQUE INDEX role_assignment_open_ux ON role_assignment (account_id, role, department) WHERE revoked_at IS NULL;

-- Care relationships that are recorded rather than derived: care-team membership and explicit assignment.
-- department NULL means a personal assignment that counts in every department where the person works.
CREATE TABLE care_assignment (
  care_id     uuid        PRIMARY KEY,
  account_id  uuid        NOT NULL REFERENCES account,
  patient_id  text        NOT NULL CHECK (patient_id ~ '^[A-Za-z0-9\-\.]{1,64}$'),
  kind        text        NOT NULL CHECK (kind IN ('care_team', 'assignment')),
  department  text        CHECK (department IS NULL OR length(department) BETWEEN 1 AND 100),
  valid_from  timestamptz NOT NULL,
  valid_to    timestamptz,
  added_by    uuid        NOT NULL REFERENCES account,
  added_at    timestamptz NOT NULL,
  ended_at    timestamptz,
  ended_by    uuid        REFERENCES account,
  CHECK (valid_to IS NULL OR valid_to > valid_from),
  CHECK ((ended_by IS NULL) = (ended_at IS NULL))
);
CREATE INDEX care_assignment_account_ix ON care_assignment (account_id) WHERE ended_at IS NULL;
CREATE INDEX care_assignment_patient_ix ON care_assignment (patient_id);

-- Labels (FHIR meta.security codes) that need an explicit privilege on top of the care relationship.
CREATE TABLE sensitivity_label (
  code     text PRIMARY KEY CHECK (code ~ '^[A-Za-z][A-Za-z0-9_-]{0,40}$'),
  system   text NOT NULL,
  name_ja  text NOT NULL,
  name_en  text NOT NULL
);
INSERT INTO sensitivity_label (code, system, name_ja, name_en) VALUES
  ('R',    'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', '制限',           'Restricted'),
  ('PSY',  'http://terminology.hl7.org/CodeSystem/v3-ActCode', '精神科',                 'Psychiatry'),
  ('HIV',  'http://terminology.hl7.org/CodeSystem/v3-ActCode', 'HIV・感染症',            'HIV / infectious disease'),
  ('GDIS', 'http://terminology.hl7.org/CodeSystem/v3-ActCode', '遺伝情報',               'Genetic disease'),
  ('VIP',  'urn:mamori:security-label', 'VIP・著名人',                                   'VIP / public figure'),
  ('EMP',  'http://terminology.hl7.org/CodeSystem/v3-ActCode', '職員（患者として）',     'Staff as patient');

CREATE TABLE sensitivity_privilege (
  privilege_id uuid        PRIMARY KEY,
  account_id   uuid        NOT NULL REFERENCES account,
  label        text        NOT NULL REFERENCES sensitivity_label,
  four_eyes    boolean     NOT NULL,
  granted_by   uuid        NOT NULL REFERENCES account,
  granted_at   timestamptz NOT NULL,
  approved_by  uuid        REFERENCES account,
  approved_at  timestamptz,
  revoked_at   timestamptz,
  revoked_by   uuid        REFERENCES account,
  CHECK ((approved_by IS NULL) = (approved_at IS NULL)),
  CHECK ((revoked_by IS NULL) = (revoked_at IS NULL)),
  CHECK (NOT four_eyes OR approved_by IS NULL OR (approved_by <> granted_by AND approved_by <> account_id))
);
CREATE UNIQUE INDEX sensitivity_privilege_open_ux ON sensitivity_privilege (account_id, label) WHERE revoked_at IS NULL;

-- Every change to roles, permissions, assignments, care relationships and privileges, with who made it.
CREATE TABLE access_change (
  change_id    bigserial   PRIMARY KEY,
  at           timestamptz NOT NULL,
  by_principal text        NOT NULL,
  action       text        NOT NULL,
  subject      text        NOT NULL,
  detail       jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX access_change_subject_ix ON access_change (subject, change_id);
CREATE TRIGGER access_change_no_update_delete BEFORE UPDATE OR DELETE ON access_change
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER access_change_no_truncate BEFORE TRUNCATE ON access_change
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

-- The catalogue (categories, rules, labels, default roles) changes by migration for now; the console that
-- edits it comes later. Assignments are closed by setting their end columns, never deleted.
GRANT SELECT ON information_category, category_rule, sensitivity_label, qualification_default_role TO mamori_app;
GRANT SELECT, INSERT ON role, access_change TO mamori_app;
GRANT SELECT, INSERT, DELETE ON role_permission TO mamori_app;
GRANT SELECT, INSERT ON role_assignment, care_assignment, sensitivity_privilege TO mamori_app;
GRANT UPDATE (approved_by, approved_at, revoked_at, revoked_by) ON role_assignment, sensitivity_privilege TO mamori_app;
GRANT UPDATE (ended_at, ended_by) ON care_assignment TO mamori_app;
GRANT USAGE ON SEQUENCE access_change_change_id_seq TO mamori_app;
