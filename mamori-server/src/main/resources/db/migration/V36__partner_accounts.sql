-- Partner clinicians of other institutions (地域医療連携; issue 21, AUTH-11, AUTH-10): a fourth account type,
-- 'partner', and the institution each partner belongs to. Owned by identity (jp.mamori.identity). A partner's account
-- is identity-proofed like staff (identity_proofing), needs two factors (no MFA exception covers it) and holds no role;
-- what it reaches is decided by the access capability's shares (V37), nothing else.
--  * partner_institution: the partner's institution as the administrator recorded it when creating the account: its
--    name and, when given, its 医療機関コード (10 digits: prefecture, fee table, institution number). Append-only: a
--    partner who moves to another institution gets a new account, so that what they did stays attributable to where
--    they were.
ALTER TABLE account DROP CONSTRAINT account_account_type_check;
ALTER TABLE account ADD CONSTRAINT account_account_type_check
  CHECK (account_type IN ('staff', 'vendor', 'emergency', 'partner'));

CREATE TABLE partner_institution (
  account_id       uuid        PRIMARY KEY REFERENCES account (account_id),
  institution_name text        NOT NULL CHECK (length(institution_name) BETWEEN 1 AND 200),
  institution_code text        CHECK (institution_code IS NULL OR institution_code ~ '^(0[1-9]|[1-3][0-9]|4[0-7])[1346][0-9]{7}$'),
  recorded_at      timestamptz NOT NULL,
  recorded_by      text        NOT NULL CHECK (length(recorded_by) BETWEEN 1 AND 200)
);
CREATE INDEX partner_institution_code_ix ON partner_institution (institution_code) WHERE institution_code IS NOT NULL;
CREATE TRIGGER partner_institution_no_update_delete BEFORE UPDATE OR DELETE ON partner_institution
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER partner_institution_no_truncate BEFORE TRUNCATE ON partner_institution
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
GRANT SELECT, INSERT ON partner_institution TO mamori_app;
