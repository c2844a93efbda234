-- Passkeys and security keys (WebAuthn), the phishing-resistant second factor (AUTH-*).
-- A credential is never deleted: removal is marked, so who removed which key, and when, stays on record.

-- One random 32-byte user handle per account. Authenticators store it and send it back in discoverable
-- logins; it is never the account id or the login id, so a passkey reveals nothing about the person.
CREATE TABLE webauthn_user_handle (
  account_id   uuid        PRIMARY KEY REFERENCES account,
  user_handle  bytea       NOT NULL UNIQUE CHECK (length(user_handle) = 32)
);

CREATE TABLE webauthn_credential (
  credential_id   bytea       PRIMARY KEY CHECK (length(credential_id) BETWEEN 1 AND 1023),
  account_id      uuid        NOT NULL REFERENCES account,
  user_handle     bytea       NOT NULL,
  public_key_cose bytea       NOT NULL,
  signature_count bigint      NOT NULL CHECK (signature_count >= 0),
  aaguid          bytea,
  transports      text,
  nickname        text        CHECK (nickname IS NULL OR length(nickname) BETWEEN 1 AND 100),
  backup_eligible boolean,
  backed_up       boolean,
  created_at      timestamptz NOT NULL,
  last_used_at    timestamptz,
  removed_at      timestamptz,
  removed_by      text,
  CHECK ((removed_at IS NULL) = (removed_by IS NULL))
);
CREATE INDEX webauthn_credential_account_ix ON webauthn_credential (account_id);

CREATE TRIGGER webauthn_credential_no_delete BEFORE DELETE ON webauthn_credential
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER webauthn_credential_no_truncate BEFORE TRUNCATE ON webauthn_credential
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

-- Ceremonies under way: the options sent to the browser, kept until the answer comes back.
-- Each is used once and expires after five minutes; expired rows may be purged.
CREATE TABLE webauthn_request (
  request_id    text        PRIMARY KEY CHECK (length(request_id) BETWEEN 32 AND 100),
  account_id    uuid        REFERENCES account,
  kind          text        NOT NULL CHECK (kind IN ('registration', 'assertion')),
  request_json  text        NOT NULL,
  created_at    timestamptz NOT NULL,
  expires_at    timestamptz NOT NULL,
  used_at       timestamptz,
  CHECK (kind = 'assertion' OR account_id IS NOT NULL)
);
CREATE INDEX webauthn_request_expires_ix ON webauthn_request (expires_at);

GRANT SELECT, INSERT ON webauthn_user_handle TO mamori_app;
GRANT SELECT, INSERT, UPDATE ON webauthn_credential TO mamori_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON webauthn_request TO mamori_app;
