-- SMART on FHIR, second part (issue 21; ADR 0016). Owned by the smart capability (jp.mamori.smart).
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
