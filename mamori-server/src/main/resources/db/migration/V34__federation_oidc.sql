-- Sign-in through the institution's OpenID Connect provider (issue 21; AUTH-1, AUTH-2, AUTH-5, AUTH-10). Owned by the
-- federation capability (jp.mamori.federation). The account ledger stays authoritative: nothing here creates, opens or
-- widens an account; a link only lets an existing account sign in through the provider.
--  * oidc_provider: the registration, one row per version (append-only); the newest row counts, and a row with
--    enabled = false turns sign-in through the provider off. The client secret, or the private key of
--    private_key_jwt, is sealed with identity's key file (AES-GCM, bound to the version's issuer and client id).
--  * oidc_link / oidc_link_removal: an account linked to the provider's (issuer, subject) by the person's own round
--    trip after a local sign-in with two factors; a removal (by an administrator, or the person) ends it. Both
--    append-only; a subject has at most one link in force (checked under an advisory lock).
--  * oidc_flow: one row per started round trip (sign-in or linking), single use: the hash of its state, the hash of
--    the browser's binding cookie, the nonce and the PKCE verifier. Rows are consumed once (used_at) and deleted when
--    old; nothing in them outlives ten minutes of use.
CREATE TABLE oidc_provider (
  version        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  enabled        boolean     NOT NULL,
  display_name   text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 60),
  discovery_url  text        NOT NULL CHECK (discovery_url LIKE 'https://%' AND length(discovery_url) <= 2000),
  issuer         text        NOT NULL CHECK (issuer LIKE 'https://%' AND length(issuer) <= 2000),
  ca_pem         text        CHECK (ca_pem IS NULL OR length(ca_pem) <= 65536),
  client_id      text        NOT NULL CHECK (length(client_id) BETWEEN 1 AND 200),
  client_auth    text        NOT NULL CHECK (client_auth IN ('client_secret_basic', 'private_key_jwt')),
  sealed_secret  bytea       NOT NULL CHECK (length(sealed_secret) <= 16384),
  public_jwk     text        CHECK (public_jwk IS NULL OR length(public_jwk) <= 4096),
  mfa_acr        text        NOT NULL CHECK (length(mfa_acr) <= 1000),
  mfa_amr        text        NOT NULL CHECK (length(mfa_amr) <= 1000),
  by_who         text        NOT NULL CHECK (length(by_who) BETWEEN 1 AND 200),
  at             timestamptz NOT NULL,
  CHECK ((client_auth = 'private_key_jwt') = (public_jwk IS NOT NULL))
);
CREATE TABLE oidc_link (
  seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id uuid        NOT NULL REFERENCES account (account_id),
  issuer     text        NOT NULL CHECK (length(issuer) BETWEEN 1 AND 2000),
  subject    text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
  by_who     text        NOT NULL CHECK (length(by_who) BETWEEN 1 AND 200),
  at         timestamptz NOT NULL
);
CREATE INDEX oidc_link_subject ON oidc_link (issuer, subject);
CREATE INDEX oidc_link_account ON oidc_link (account_id);
CREATE TABLE oidc_link_removal (
  link_seq bigint      PRIMARY KEY REFERENCES oidc_link (seq),
  by_who   text        NOT NULL CHECK (length(by_who) BETWEEN 1 AND 200),
  reason   text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  at       timestamptz NOT NULL
);
CREATE TABLE oidc_flow (
  state_hash       bytea       PRIMARY KEY CHECK (length(state_hash) = 32),
  browser_hash     bytea       NOT NULL CHECK (length(browser_hash) = 32),
  purpose          text        NOT NULL CHECK (purpose IN ('login', 'link')),
  account_id       uuid        REFERENCES account (account_id),
  provider_version bigint      NOT NULL REFERENCES oidc_provider (version),
  nonce            text        NOT NULL CHECK (length(nonce) BETWEEN 32 AND 100),
  code_verifier    text        NOT NULL CHECK (length(code_verifier) BETWEEN 43 AND 128),
  created_at       timestamptz NOT NULL,
  expires_at       timestamptz NOT NULL,
  used_at          timestamptz,
  CHECK ((purpose = 'link') = (account_id IS NOT NULL))
);
CREATE INDEX oidc_flow_expiry ON oidc_flow (expires_at);
CREATE TRIGGER oidc_provider_no_update_delete BEFORE UPDATE OR DELETE ON oidc_provider
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER oidc_provider_no_truncate BEFORE TRUNCATE ON oidc_provider
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER oidc_link_no_update_delete BEFORE UPDATE OR DELETE ON oidc_link
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER oidc_link_no_truncate BEFORE TRUNCATE ON oidc_link
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER oidc_link_removal_no_update_delete BEFORE UPDATE OR DELETE ON oidc_link_removal
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER oidc_link_removal_no_truncate BEFORE TRUNCATE ON oidc_link_removal
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
GRANT SELECT, INSERT ON oidc_provider, oidc_link, oidc_link_removal TO mamori_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON oidc_flow TO mamori_app;
