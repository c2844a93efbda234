-- Directory sync (issue 21; ACCT-2, AUTH-10): qualifications (資格) read from a directory attribute become proposals
-- as departments do. The value is the qualification catalogue's code the directory's value matched; accepting one
-- grants it through identity, with the licence number the administrator reads from the licence when one is needed.
ALTER TABLE directory_proposal DROP CONSTRAINT directory_proposal_kind_check;
ALTER TABLE directory_proposal ADD CONSTRAINT directory_proposal_kind_check
  CHECK (kind IN ('department', 'qualification'));
