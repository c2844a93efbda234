-- System clients authenticate by a pinned TLS client certificate or by a signed JWT assertion
-- (private_key_jwt), and receive short-lived access tokens (NET-6, AUTH-1). Static bearer tokens remain
-- for existing clients. Every client has an owner, a purpose and an expiry.

ALTER TABLE system_client
  ADD COLUMN owner       text,
  ADD COLUMN purpose     text,
  ADD COLUMN expires_at  timestamptz,
  ADD COLUMN auth_method text NOT NULL DEFAULT 'bearer'
    CHECK (auth_method IN ('bearer', 'mtls', 'private_key_jwt')),
  -- SHA-256 of the client certificate's DER encoding: the pin an mtls client is recognised by.
  ADD COLUMN cert_sha256 bytea UNIQUE CHECK (cert_sha256 IS NULL OR length(cert_sha256) = 32),
  -- The client's public JWK set, against which its assertions are verified.
  ADD COLUMN jwks        jsonb;

-- Clients registered before expiry existed get one year from their creation.
UPDATE system_client SET expires_at = created_at + interval '1 year' WHERE expires_at IS NULL;
ALTER TABLE system_client ALTER COLUMN expires_at SET NOT NULL;
ALTER TABLE system_client ADD CONSTRAINT system_client_expiry_ck
  CHECK (expires_at > created_at AND expires_at <= created_at + interval '3 years');

-- Certificate and assertion clients have no static token. A present token keeps V1's length check.
ALTER TABLE system_client ALTER COLUMN token_sha256 DROP NOT NULL;
ALTER TABLE system_client ADD CONSTRAINT system_client_credential_ck CHECK (
  (auth_method = 'bearer' AND token_sha256 IS NOT NULL AND cert_sha256 IS NULL AND jwks IS NULL)
  OR (auth_method = 'mtls' AND token_sha256 IS NULL AND cert_sha256 IS NOT NULL AND jwks IS NULL)
  OR (auth_method = 'private_key_jwt' AND token_sha256 IS NULL AND cert_sha256 IS NULL AND jwks IS NOT NULL));

-- Short-lived access tokens issued by POST /oauth/token, stored only as SHA-256 (they are 256-bit random).
-- Rows are deleted after they expire; the issue itself is in the server log.
CREATE TABLE access_token (
  token_sha256 bytea       PRIMARY KEY CHECK (length(token_sha256) = 32),
  client_id    text        NOT NULL REFERENCES system_client (client_id),
  scopes       text        NOT NULL,
  issued_at    timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  CHECK (expires_at > issued_at)
);
CREATE INDEX access_token_expires_ix ON access_token (expires_at);

-- The jti of every accepted client assertion, kept until the assertion has expired, so none is used twice.
CREATE TABLE client_assertion_jti (
  client_id  text        NOT NULL REFERENCES system_client (client_id),
  jti        text        NOT NULL CHECK (length(jti) BETWEEN 1 AND 200),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX client_assertion_jti_expires_ix ON client_assertion_jti (expires_at);

GRANT SELECT, INSERT, DELETE ON access_token, client_assertion_jti TO mamori_app;
