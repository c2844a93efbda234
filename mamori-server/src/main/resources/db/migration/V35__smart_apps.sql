-- SMART on FHIR (issue 21): Mamori as the OAuth 2.0 authorization server for apps that act for a person. Owned by
-- the smart capability (jp.mamori.smart). No token, code, launch id or client secret is stored, only its SHA-256
-- (each is 256 random bits, so a plain hash is enough).
--  * smart_app: a registered app, its current registration (name, public or confidential, redirect URIs compared
--    exactly, launch URL, the most it may ask for, enabled); smart_app_version: every registration as it was, with who
--    changed it (append-only).
--  * smart_launch: an EHR launch from the clinician console, single use, bound to the person, the patient and the app.
--  * smart_grant: one authorization a person gave an app (the consent record): the scopes granted, the patient of the
--    launch context, and its code (single use, bound to the redirect URI and the PKCE challenge). Revoking the grant
--    (a replayed code, a reused refresh token, revocation by the app) ends every token issued from it.
--  * smart_token: access and refresh tokens of a grant; a refresh token is replaced when used (rotation).
CREATE TABLE smart_app (
  client_id      text        PRIMARY KEY CHECK (client_id ~ '^[A-Za-z0-9._-]{3,64}$'),
  name           text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  confidential   boolean     NOT NULL,
  secret_sha256  bytea       CHECK (secret_sha256 IS NULL OR length(secret_sha256) = 32),
  redirect_uris  text[]      NOT NULL CHECK (cardinality(redirect_uris) BETWEEN 1 AND 10),
  launch_url     text        CHECK (launch_url IS NULL OR length(launch_url) <= 2000),
  max_scopes     text        NOT NULL CHECK (length(max_scopes) BETWEEN 1 AND 4000),
  enabled        boolean     NOT NULL,
  version        integer     NOT NULL CHECK (version >= 1),
  changed_at     timestamptz NOT NULL,
  changed_by     text        NOT NULL,
  CHECK (confidential = (secret_sha256 IS NOT NULL))
);
CREATE TABLE smart_app_version (
  client_id      text        NOT NULL REFERENCES smart_app (client_id),
  version        integer     NOT NULL,
  name           text        NOT NULL,
  confidential   boolean     NOT NULL,
  redirect_uris  text[]      NOT NULL,
  launch_url     text,
  max_scopes     text        NOT NULL,
  enabled        boolean     NOT NULL,
  secret_changed boolean     NOT NULL,
  changed_at     timestamptz NOT NULL,
  changed_by     text        NOT NULL,
  PRIMARY KEY (client_id, version)
);
CREATE TRIGGER smart_app_version_no_update_delete BEFORE UPDATE OR DELETE ON smart_app_version
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER smart_app_version_no_truncate BEFORE TRUNCATE ON smart_app_version
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

CREATE TABLE smart_launch (
  launch_sha256  bytea       PRIMARY KEY CHECK (length(launch_sha256) = 32),
  account_id     uuid        NOT NULL,
  patient_id     text        NOT NULL CHECK (length(patient_id) BETWEEN 1 AND 64),
  client_id      text        NOT NULL REFERENCES smart_app (client_id),
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  used_at        timestamptz
);

CREATE TABLE smart_grant (
  grant_id       uuid        PRIMARY KEY,
  client_id      text        NOT NULL REFERENCES smart_app (client_id),
  account_id     uuid        NOT NULL,
  display        text        NOT NULL CHECK (length(display) BETWEEN 1 AND 200),
  scopes         text        NOT NULL CHECK (length(scopes) BETWEEN 1 AND 4000),
  patient_id     text        CHECK (patient_id IS NULL OR length(patient_id) BETWEEN 1 AND 64),
  redirect_uri   text        NOT NULL,
  code_sha256    bytea       NOT NULL UNIQUE CHECK (length(code_sha256) = 32),
  code_challenge text        NOT NULL CHECK (code_challenge ~ '^[A-Za-z0-9_-]{43}$'),
  code_expires_at timestamptz NOT NULL,
  code_used_at   timestamptz,
  refresh        text        CHECK (refresh IS NULL OR refresh IN ('offline', 'online')),
  created_at     timestamptz NOT NULL,
  revoked_at     timestamptz,
  revoked_reason text        CHECK (revoked_reason IS NULL OR length(revoked_reason) <= 200)
);
CREATE INDEX smart_grant_account ON smart_grant (account_id, created_at DESC);

CREATE TABLE smart_token (
  token_sha256   bytea       PRIMARY KEY CHECK (length(token_sha256) = 32),
  grant_id       uuid        NOT NULL REFERENCES smart_grant (grant_id),
  kind           text        NOT NULL CHECK (kind IN ('access', 'refresh')),
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  replaced_at    timestamptz
);
CREATE INDEX smart_token_grant ON smart_token (grant_id);

GRANT SELECT, INSERT, UPDATE ON smart_app, smart_launch, smart_grant, smart_token TO mamori_app;
GRANT SELECT, INSERT ON smart_app_version TO mamori_app;
