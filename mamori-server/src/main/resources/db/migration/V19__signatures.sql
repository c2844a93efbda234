-- Signatures on finalized documents (issue 17; SIGN-1..6, AUTH-7; ADR 0012). Owned by the signatures capability.
--  * signing_key: each person's registered signing key — where it is (a PKCS#11 token or a PKCS#12 file, both opened
--    only with the holder's PIN, which is never stored) and its certificate as registered: the name and HPKI role
--    read from it, its expiry. One active key per account; a replaced key is retired, never deleted.
--  * document_signature: one row per signed document version: who signed, with which certificate, the level reached
--    (B, B-T, LT, LTA), the time-stamp's time, a pending time-stamp's reason, and the last validation. The
--    signature itself lives in the Provenance resource named here (record store: versioned, in the signed trail);
--    this row is the state the upkeep works from and the console shows.

CREATE TABLE signing_key (
  key_id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id     uuid        NOT NULL,
  kind           text        NOT NULL CHECK (kind IN ('pkcs11', 'pkcs12')),
  locator        text        NOT NULL CHECK (length(locator) BETWEEN 1 AND 2000),
  certificate    bytea       NOT NULL CHECK (length(certificate) BETWEEN 100 AND 65536),
  subject_name   text        NOT NULL,
  role_code      text,
  role_label     text,
  not_after      timestamptz NOT NULL,
  registered_by  text        NOT NULL,
  registered_at  timestamptz NOT NULL,
  retired_at     timestamptz,
  retired_by     text
);
CREATE UNIQUE INDEX signing_key_active_ux ON signing_key (account_id) WHERE retired_at IS NULL;

CREATE TABLE document_signature (
  signature_id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  res_type            text        NOT NULL,
  res_id              text        NOT NULL,
  version             integer     NOT NULL CHECK (version > 0),
  content_sha256      bytea       NOT NULL CHECK (length(content_sha256) = 32),
  provenance_id       text        NOT NULL,
  account_id          uuid        NOT NULL,
  key_id              bigint      NOT NULL REFERENCES signing_key,
  signer_name         text        NOT NULL,
  signer_role         text,
  certificate_serial  text        NOT NULL,
  level               text        NOT NULL CHECK (level IN ('B', 'B-T', 'LT', 'LTA')),
  timestamp_at        timestamptz,
  pending_reason      text,
  signed_at           timestamptz NOT NULL,
  archive_until       timestamptz,
  validated_at        timestamptz,
  indication          text        CHECK (indication IN ('TOTAL_PASSED', 'INDETERMINATE', 'TOTAL_FAILED')),
  sub_indication      text,
  reason              text,
  report              text,
  CONSTRAINT document_signature_version_uk UNIQUE (res_type, res_id, version)
);
CREATE INDEX document_signature_upkeep_ix ON document_signature (level, archive_until);
CREATE INDEX document_signature_provenance_ix ON document_signature (provenance_id);
CREATE INDEX document_signature_pending_ix ON document_signature (signature_id) WHERE pending_reason IS NOT NULL;

GRANT SELECT, INSERT, UPDATE ON signing_key TO mamori_app;
GRANT SELECT, INSERT, UPDATE ON document_signature TO mamori_app;
