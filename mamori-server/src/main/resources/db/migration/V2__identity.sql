-- Identity: the people who use Mamori, their accounts, factors and sessions (AUTH-*, ACCT-*).
-- Change history and authentication events are append-only, like record versions.

-- Qualifications are data, so an institution can add its own (e.g. 視能訓練士) without a release.
CREATE TABLE qualification (
  code             text        PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{1,40}$'),
  name_ja          text        NOT NULL CHECK (length(name_ja) BETWEEN 1 AND 100),
  name_en          text        NOT NULL CHECK (length(name_en) BETWEEN 1 AND 100),
  licence_required boolean     NOT NULL,
  licence_label_ja text,
  sort_order       integer     NOT NULL DEFAULT 1000
);
INSERT INTO qualification (code, name_ja, name_en, licence_required, licence_label_ja, sort_order) VALUES
  ('physician',            '医師',           'Physician',                      true,  '医籍登録番号', 10),
  ('dentist',              '歯科医師',       'Dentist',                        true,  '歯科医籍登録番号', 20),
  ('pharmacist',           '薬剤師',         'Pharmacist',                     true,  '薬剤師名簿登録番号', 30),
  ('nurse',                '看護師',         'Nurse',                          true,  '看護師籍登録番号', 40),
  ('midwife',              '助産師',         'Midwife',                        true,  '助産師籍登録番号', 50),
  ('public_health_nurse',  '保健師',         'Public health nurse',            true,  '保健師籍登録番号', 60),
  ('assistant_nurse',      '准看護師',       'Assistant nurse',                true,  '准看護師免許番号', 70),
  ('clinical_lab_tech',    '臨床検査技師',   'Clinical laboratory technologist', true, '臨床検査技師名簿登録番号', 80),
  ('radiological_tech',    '診療放射線技師', 'Radiological technologist',      true,  '診療放射線技師籍登録番号', 90),
  ('physical_therapist',   '理学療法士',     'Physical therapist',             true,  '理学療法士名簿登録番号', 100),
  ('occupational_therapist','作業療法士',    'Occupational therapist',         true,  '作業療法士名簿登録番号', 110),
  ('registered_dietitian', '管理栄養士',     'Registered dietitian',           true,  '管理栄養士名簿登録番号', 120),
  ('medical_clerk',        '医療事務',       'Medical clerk',                  false, NULL, 200),
  ('clerk',                '事務',           'Clerk',                          false, NULL, 210),
  ('system_administrator', 'システム管理者', 'System administrator',           false, NULL, 300),
  ('vendor_engineer',      '保守作業員',     'Vendor maintenance engineer',    false, NULL, 310);

-- One row per person: Mamori has no shared or generic accounts (ACCT-6), so an account is a person.
CREATE TABLE account (
  account_id      uuid        PRIMARY KEY,
  login_id        text        NOT NULL UNIQUE CHECK (login_id ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
  family_name     text        NOT NULL CHECK (length(family_name) BETWEEN 1 AND 100),
  given_name      text        NOT NULL CHECK (length(given_name) BETWEEN 1 AND 100),
  family_kana     text        NOT NULL CHECK (length(family_kana) BETWEEN 1 AND 100),
  given_kana      text        NOT NULL CHECK (length(given_kana) BETWEEN 1 AND 100),
  account_type    text        NOT NULL CHECK (account_type IN ('staff', 'vendor', 'emergency')),
  status          text        NOT NULL CHECK (status IN ('created', 'enrolment_pending', 'active', 'suspended', 'retired')),
  status_reason   text,
  status_changed_at timestamptz NOT NULL,
  retire_at       timestamptz,
  created_at      timestamptz NOT NULL,
  created_by      text        NOT NULL,
  last_login_at   timestamptz,
  must_change_password boolean NOT NULL DEFAULT false,
  row_version     integer     NOT NULL DEFAULT 1
);
CREATE INDEX account_status_ix ON account (status);
CREATE INDEX account_retire_ix ON account (retire_at) WHERE retire_at IS NOT NULL AND status <> 'retired';

-- Roles until the access capability brings its own model; 'account_admin' may manage accounts.
CREATE TABLE account_role (
  account_id  uuid NOT NULL REFERENCES account,
  role        text NOT NULL CHECK (role ~ '^[a-z][a-z0-9_]{1,40}$'),
  PRIMARY KEY (account_id, role)
);

CREATE TABLE account_qualification (
  account_id      uuid NOT NULL REFERENCES account,
  qualification   text NOT NULL REFERENCES qualification,
  licence_number  text CHECK (licence_number IS NULL OR length(licence_number) BETWEEN 1 AND 40),
  PRIMARY KEY (account_id, qualification)
);
-- A licence identifies one person: two accounts with the same licence would be a shared identity.
CREATE UNIQUE INDEX account_qualification_licence_ux ON account_qualification (qualification, licence_number)
  WHERE licence_number IS NOT NULL;

CREATE TABLE account_department (
  account_id  uuid NOT NULL REFERENCES account,
  department  text NOT NULL CHECK (length(department) BETWEEN 1 AND 100),
  PRIMARY KEY (account_id, department)
);

-- How identity was verified when the account was issued (AUTH-10). Document numbers are not kept whole:
-- only what the verifier noted (e.g. the last four digits), so the ledger is not a copy of ID cards.
CREATE TABLE identity_proofing (
  proofing_id   bigserial   PRIMARY KEY,
  account_id    uuid        NOT NULL REFERENCES account,
  method        text        NOT NULL CHECK (method IN ('in_person', 'video_call', 'employer_record', 'bootstrap')),
  document_type text        NOT NULL CHECK (document_type IN ('my_number_card', 'drivers_licence', 'passport',
                              'residence_card', 'health_insurance_card', 'professional_licence', 'hpki_card',
                              'staff_id', 'none')),
  document_note text        CHECK (document_note IS NULL OR length(document_note) <= 200),
  verified_by   text        NOT NULL,
  verified_at   timestamptz NOT NULL,
  recorded_at   timestamptz NOT NULL
);

-- Every change to an account, role, factor or session, attributable and never rewritten.
CREATE TABLE account_change (
  change_id   bigserial   PRIMARY KEY,
  account_id  uuid        NOT NULL REFERENCES account,
  at          timestamptz NOT NULL,
  by_principal text       NOT NULL,
  action      text        NOT NULL,
  detail      jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX account_change_account_ix ON account_change (account_id, change_id);

-- Every login success and failure, known login id or not (AUTH-1; the audit capability takes these over).
CREATE TABLE auth_event (
  event_id    bigserial   PRIMARY KEY,
  at          timestamptz NOT NULL,
  account_id  uuid,
  login_id    text,
  address     text        NOT NULL,
  event       text        NOT NULL,
  outcome     text        NOT NULL CHECK (outcome IN ('success', 'failure')),
  detail      text
);
CREATE INDEX auth_event_account_ix ON auth_event (account_id, event_id);

CREATE TRIGGER identity_proofing_no_update_delete BEFORE UPDATE OR DELETE ON identity_proofing
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER account_change_no_update_delete BEFORE UPDATE OR DELETE ON account_change
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER auth_event_no_update_delete BEFORE UPDATE OR DELETE ON auth_event
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER identity_append_only_no_truncate BEFORE TRUNCATE ON account_change
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER auth_event_no_truncate BEFORE TRUNCATE ON auth_event
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER identity_proofing_no_truncate BEFORE TRUNCATE ON identity_proofing
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

-- Argon2id hashes in PHC form: the parameters travel with each hash so they can be raised later.
CREATE TABLE password_credential (
  account_id     uuid        PRIMARY KEY REFERENCES account,
  phc            text        NOT NULL CHECK (phc LIKE '$argon2id$%'),
  set_at         timestamptz NOT NULL,
  compromised_at timestamptz
);

-- One-time enrolment codes: only a hash is kept; single use, and they expire.
CREATE TABLE enrolment_code (
  code_sha256  bytea       PRIMARY KEY CHECK (length(code_sha256) = 32),
  account_id   uuid        NOT NULL REFERENCES account,
  created_at   timestamptz NOT NULL,
  created_by   text        NOT NULL,
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX enrolment_code_account_ix ON enrolment_code (account_id);

-- TOTP secrets are sealed with a key kept in the data folder, not in the database.
CREATE TABLE totp_credential (
  account_id     uuid        PRIMARY KEY REFERENCES account,
  secret_sealed  bytea       NOT NULL,
  created_at     timestamptz NOT NULL,
  confirmed_at   timestamptz,
  last_step      bigint      NOT NULL DEFAULT 0
);

CREATE TABLE recovery_code (
  account_id  uuid        NOT NULL REFERENCES account,
  code_sha256 bytea       NOT NULL CHECK (length(code_sha256) = 32),
  created_at  timestamptz NOT NULL,
  used_at     timestamptz,
  PRIMARY KEY (account_id, code_sha256)
);

-- Failed logins by login id (known or not, so that lockout itself tells nothing about who exists).
CREATE TABLE login_throttle (
  login_id        text        PRIMARY KEY,
  failures        integer     NOT NULL,
  last_failure_at timestamptz NOT NULL,
  locked_until    timestamptz
);

-- Server-side sessions, shared by every Mamori process on this database. The cookie holds a random id;
-- only its SHA-256 is stored.
CREATE TABLE web_session (
  session_sha256   bytea       PRIMARY KEY CHECK (length(session_sha256) = 32),
  account_id       uuid        NOT NULL REFERENCES account,
  stage            text        NOT NULL CHECK (stage IN ('second_factor', 'enrolment', 'authenticated')),
  amr              text        NOT NULL,
  created_at       timestamptz NOT NULL,
  authenticated_at timestamptz,
  last_seen_at     timestamptz NOT NULL,
  second_factor_at timestamptz,
  locked_at        timestamptz,
  ended_at         timestamptz,
  end_reason       text,
  address          text        NOT NULL,
  user_agent       text,
  mfa_exception_id uuid,
  emergency_declaration_id uuid
);
CREATE INDEX web_session_account_open_ix ON web_session (account_id) WHERE ended_at IS NULL;

-- Terminals where a second factor is not asked, because a physical control stands in for it (AUTH-4).
-- Each one is a deviation in compliance reports for as long as it is in force.
CREATE TABLE mfa_exception (
  exception_id          uuid        PRIMARY KEY,
  name                  text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  address_range         cidr        NOT NULL,
  compensating_control  text        NOT NULL CHECK (length(compensating_control) BETWEEN 10 AND 2000),
  granted_by            text        NOT NULL,
  granted_at            timestamptz NOT NULL,
  expires_at            timestamptz NOT NULL,
  revoked_at            timestamptz,
  revoked_by            text
);

-- Emergencies: declared by a named person, limited in time; emergency accounts work only inside one.
CREATE TABLE emergency_declaration (
  declaration_id  uuid        PRIMARY KEY,
  declared_by     text        NOT NULL,
  reason          text        NOT NULL CHECK (length(reason) BETWEEN 5 AND 2000),
  declared_at     timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  ended_at        timestamptz,
  ended_by        text
);

-- Each use of an emergency account is an item to review after recovery (DEGRADED-2/3).
CREATE TABLE emergency_use (
  use_id          bigserial   PRIMARY KEY,
  account_id      uuid        NOT NULL REFERENCES account,
  declaration_id  uuid        REFERENCES emergency_declaration,
  started_at      timestamptz NOT NULL,
  address         text        NOT NULL,
  reviewed_at     timestamptz,
  reviewed_by     text,
  review_note     text
);

GRANT SELECT, INSERT, UPDATE ON qualification TO mamori_app;
GRANT SELECT, INSERT, UPDATE ON account TO mamori_app;
GRANT SELECT, INSERT, DELETE ON account_role, account_qualification, account_department TO mamori_app;
GRANT SELECT, INSERT ON identity_proofing, account_change, auth_event TO mamori_app;
GRANT USAGE ON SEQUENCE identity_proofing_proofing_id_seq, account_change_change_id_seq,
  auth_event_event_id_seq, emergency_use_use_id_seq TO mamori_app;
GRANT SELECT, INSERT, UPDATE ON password_credential, enrolment_code, totp_credential, recovery_code,
  login_throttle, web_session, mfa_exception, emergency_declaration, emergency_use TO mamori_app;
GRANT DELETE ON totp_credential, recovery_code, login_throttle TO mamori_app;
