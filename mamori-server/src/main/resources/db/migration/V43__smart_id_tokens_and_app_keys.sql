-- SMART on FHIR, second part (issue 21; ADR 0016). Owned by the smart capability (jp.mamori.smart): ID tokens, and
-- apps that authenticate with their own keys.
--  * smart_signing_key: the keys Mamori signs ID tokens with (openid fhirUser). The private key is sealed with
--    identity's key file (AES-GCM, bound to the key id), never stored in the clear; the public JWK is published at
--    /oauth/jwks. One key is current (retired_at IS NULL); a retired key stays published for a day so that ID tokens
--    signed just before a rotation still verify.
--  * smart_grant.nonce: the OpenID Connect nonce of the authorization request, echoed in the ID token.
--  * smart_grant.last_used_at: when a token of the grant was last used (written at most once a minute), for the
--    person's own list of the apps they allowed.
CREATE TABLE smart_signing_key (
  kid            text        PRIMARY KEY CHECK (kid ~ '^[A-Za-z0-9_-]{8,64}$'),
  alg            text        NOT NULL CHECK (alg IN ('RS256')),
  public_jwk     text        NOT NULL CHECK (length(public_jwk) BETWEEN 1 AND 4000),
  sealed_private bytea       NOT NULL CHECK (length(sealed_private) BETWEEN 1 AND 8000),
  created_at     timestamptz NOT NULL,
  retired_at     timestamptz
);
CREATE UNIQUE INDEX smart_signing_key_one_current ON smart_signing_key ((true)) WHERE retired_at IS NULL;
CREATE TRIGGER smart_signing_key_no_delete BEFORE DELETE ON smart_signing_key
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();

ALTER TABLE smart_grant ADD COLUMN nonce text CHECK (nonce IS NULL OR length(nonce) BETWEEN 1 AND 2000);
ALTER TABLE smart_grant ADD COLUMN last_used_at timestamptz;

GRANT SELECT, INSERT, UPDATE ON smart_signing_key TO mamori_app;

-- private_key_jwt for confidential apps (SMART "asymmetric client authentication"): an app registers its public JWK set
-- (inline, at most 8 KiB, public keys only) instead of a secret, and authenticates at /oauth/token with a signed
-- assertion (RS384 or ES384); each assertion's jti is kept until it expires and refused a second time.
ALTER TABLE smart_app ADD COLUMN jwks text CHECK (jwks IS NULL OR length(jwks) BETWEEN 1 AND 8192);
ALTER TABLE smart_app DROP CONSTRAINT smart_app_check;
ALTER TABLE smart_app ADD CONSTRAINT smart_app_one_credential CHECK (
  confidential = (secret_sha256 IS NOT NULL OR jwks IS NOT NULL) AND NOT (secret_sha256 IS NOT NULL AND jwks IS NOT NULL));
ALTER TABLE smart_app_version ADD COLUMN jwks text;
CREATE TABLE smart_assertion_jti (
  client_id      text        NOT NULL REFERENCES smart_app (client_id),
  jti            text        NOT NULL CHECK (length(jti) BETWEEN 1 AND 200),
  expires_at     timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX smart_assertion_jti_expires ON smart_assertion_jti (expires_at);
GRANT SELECT, INSERT, DELETE ON smart_assertion_jti TO mamori_app;

-- Tamper checks the database superuser cannot pass unnoticed: the decisive columns of a grant (its scopes), of an app
-- (redirect URIs, maximum scopes, credentials) and of a partner share (partner, patient, categories, labels, end) carry
-- a tag made with identity's key file (AES-GCM over the columns), which lives in the server's data folder, not in the
-- database. `./mamori verify-records` and the compliance probe access.sealed-grants recompute and compare them.
-- partner_share belongs to access (V37); its column is added here because this change has one migration number.
ALTER TABLE smart_grant ADD COLUMN seal bytea CHECK (seal IS NULL OR length(seal) <= 200);
ALTER TABLE smart_app ADD COLUMN seal bytea CHECK (seal IS NULL OR length(seal) <= 200);
ALTER TABLE partner_share ADD COLUMN seal bytea CHECK (seal IS NULL OR length(seal) <= 200);
