-- Shares with partner clinicians (地域医療連携; issue 21, AUTH-11, ACCESS-1): a referral (紹介) or consent (同意) record
-- that lets ONE partner account read ONE patient's records, in the chosen information categories (and sensitivity
-- labels only when chosen explicitly), from its start until its end date (at most 366 days later), unless revoked
-- earlier. Owned by the access capability (jp.mamori.access.PartnerShares).
--  * partner_share: one row per share. Only the revocation columns ever change (and version with them); every
--    creation and revocation is also written to access_change (append-only), which is the share's history.
--  * Any insert or change moves the partner's access version (access_version), so the next request of every server
--    process reads the partner's context again; the end date itself is checked on every request, in memory and in
--    the search filter's SQL.
CREATE TABLE partner_share (
  share_id       uuid        PRIMARY KEY,
  share_no       bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
  account_id     uuid        NOT NULL REFERENCES account (account_id),
  patient_id     text        NOT NULL CHECK (patient_id ~ '^[A-Za-z0-9.-]{1,64}$'),
  basis          text        NOT NULL CHECK (basis IN ('referral', 'consent')),
  basis_ref      text        NOT NULL CHECK (length(basis_ref) BETWEEN 1 AND 200),
  categories     text[]      NOT NULL CHECK (cardinality(categories) BETWEEN 1 AND 20),
  labels         text[]      NOT NULL DEFAULT '{}' CHECK (cardinality(labels) <= 20),
  starts_at      timestamptz NOT NULL,
  ends_at        timestamptz NOT NULL,
  created_at     timestamptz NOT NULL,
  created_by     uuid        NOT NULL REFERENCES account (account_id),
  revoked_at     timestamptz,
  revoked_by     uuid        REFERENCES account (account_id),
  revoke_reason  text        CHECK (revoke_reason IS NULL OR length(revoke_reason) BETWEEN 1 AND 500),
  version        integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
  CHECK (ends_at > starts_at AND ends_at <= starts_at + interval '366 days'),
  CHECK ((revoked_at IS NULL) = (revoked_by IS NULL) AND (revoked_at IS NULL) = (revoke_reason IS NULL)),
  CHECK (created_by <> account_id)
);
CREATE INDEX partner_share_account_ix ON partner_share (account_id, patient_id) WHERE revoked_at IS NULL;
CREATE INDEX partner_share_patient_ix ON partner_share (patient_id);
CREATE INDEX partner_share_ends_ix ON partner_share (ends_at) WHERE revoked_at IS NULL;

CREATE FUNCTION mamori_bump_partner_access_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO access_version AS v (account_id, version) VALUES (NEW.account_id, 1)
    ON CONFLICT (account_id) DO UPDATE SET version = v.version + 1;
  RETURN NULL;
END
$$;
CREATE TRIGGER partner_share_access_version AFTER INSERT OR UPDATE ON partner_share
  FOR EACH ROW EXECUTE FUNCTION mamori_bump_partner_access_version();
CREATE TRIGGER partner_share_no_delete BEFORE DELETE ON partner_share
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER partner_share_no_truncate BEFORE TRUNCATE ON partner_share
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

GRANT SELECT, INSERT ON partner_share TO mamori_app;
GRANT UPDATE (revoked_at, revoked_by, revoke_reason, version) ON partner_share TO mamori_app;
