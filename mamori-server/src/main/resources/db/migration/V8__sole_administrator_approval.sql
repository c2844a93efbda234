-- A clinic with a single administrator cannot give a second pair of eyes to the assignment of its second
-- administrator. While exactly one active administrator exists, that administrator may approve an
-- account_admin or system_admin assignment they requested themself (after a fresh second factor, enforced by
-- the console gate). Such an approval is marked sole_admin, recorded, and stays a listed deviation until an
-- administrator who is neither the approver nor the grantee confirms it (ADR 0005).
ALTER TABLE role_assignment
  ADD COLUMN sole_admin   boolean     NOT NULL DEFAULT false,
  ADD COLUMN confirmed_by uuid        REFERENCES account,
  ADD COLUMN confirmed_at timestamptz;

-- Replace the four-eyes CHECK of V5 (unnamed there) with one that admits the marked sole-administrator case.
DO $$
DECLARE n text;
BEGIN
  FOR n IN SELECT conname FROM pg_constraint WHERE conrelid = 'role_assignment'::regclass AND contype = 'c'
             AND pg_get_constraintdef(oid) LIKE '%four_eyes%' LOOP
    EXECUTE format('ALTER TABLE role_assignment DROP CONSTRAINT %I', n);
  END LOOP;
END $$;

ALTER TABLE role_assignment
  ADD CONSTRAINT role_assignment_four_eyes CHECK (NOT four_eyes OR approved_by IS NULL
    OR (approved_by <> account_id AND (approved_by <> granted_by OR sole_admin))),
  ADD CONSTRAINT role_assignment_sole_admin CHECK (NOT sole_admin
    OR (four_eyes AND role IN ('account_admin', 'system_admin') AND approved_by = granted_by)),
  ADD CONSTRAINT role_assignment_confirmed_pair CHECK ((confirmed_by IS NULL) = (confirmed_at IS NULL)),
  ADD CONSTRAINT role_assignment_confirmed_by_third CHECK (confirmed_by IS NULL
    OR (sole_admin AND confirmed_by <> approved_by AND confirmed_by <> account_id));

GRANT UPDATE (sole_admin, confirmed_by, confirmed_at) ON role_assignment TO mamori_app;
