-- Directory sync (issue 21; ACCT-2): the institution's directory (Active Directory, OpenLDAP) read on an interval;
-- a linked person whose entry is gone or disabled is suspended through identity's own suspension. Owned by the
-- directory capability (jp.mamori.directory). Every table is append-only (triggers refuse UPDATE, DELETE, TRUNCATE).
--  * directory_link: an account linked to its directory entry, first by the login attribute, from then by the entry's
--    stable id (entryUUID; AD objectGUID). A rename is a further row with the same entry id; the newest row counts.
--  * directory_run: one row per sync run, success or failed with the reason, and its counts.
--  * directory_suspension: each person a sync suspended, with why (gone, disabled) and the entry's DN.
--  * directory_proposal / directory_proposal_decision: a department read from the directory, proposed to the
--    administrator, who accepts (identity's own change) or dismisses it; never applied by itself.
CREATE TABLE directory_link (
  seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id uuid        NOT NULL REFERENCES account (account_id),
  entry_id   text        NOT NULL CHECK (length(entry_id) BETWEEN 1 AND 200),
  dn         text        NOT NULL CHECK (length(dn) BETWEEN 1 AND 2000),
  login      text        NOT NULL CHECK (length(login) BETWEEN 1 AND 200),
  at         timestamptz NOT NULL
);
CREATE INDEX directory_link_account ON directory_link (account_id, seq DESC);
CREATE TABLE directory_run (
  seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz NOT NULL,
  trigger     text        NOT NULL CHECK (trigger IN ('schedule', 'console', 'cli')),
  by_who      text        NOT NULL CHECK (length(by_who) BETWEEN 1 AND 200),
  outcome     text        NOT NULL CHECK (outcome IN ('success', 'failed')),
  reason      text        CHECK (reason IS NULL OR length(reason) <= 2000),
  checked     integer     NOT NULL CHECK (checked >= 0),
  linked      integer     NOT NULL CHECK (linked >= 0),
  suspended   integer     NOT NULL CHECK (suspended >= 0),
  refused     integer     NOT NULL CHECK (refused >= 0),
  CHECK ((outcome = 'failed') = (reason IS NOT NULL))
);
CREATE INDEX directory_run_newest ON directory_run (seq DESC);
CREATE TABLE directory_suspension (
  seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id uuid        NOT NULL REFERENCES account (account_id),
  why        text        NOT NULL CHECK (why IN ('gone', 'disabled')),
  dn         text        NOT NULL CHECK (length(dn) BETWEEN 1 AND 2000),
  at         timestamptz NOT NULL
);
CREATE TABLE directory_proposal (
  seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id uuid        NOT NULL REFERENCES account (account_id),
  kind       text        NOT NULL CHECK (kind IN ('department')),
  value      text        NOT NULL CHECK (length(value) BETWEEN 1 AND 100),
  at         timestamptz NOT NULL
);
CREATE TABLE directory_proposal_decision (
  proposal_seq bigint      PRIMARY KEY REFERENCES directory_proposal (seq),
  decision     text        NOT NULL CHECK (decision IN ('accepted', 'dismissed')),
  by_who       text        NOT NULL CHECK (length(by_who) BETWEEN 1 AND 200),
  at           timestamptz NOT NULL
);
CREATE TRIGGER directory_link_no_update_delete BEFORE UPDATE OR DELETE ON directory_link
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER directory_link_no_truncate BEFORE TRUNCATE ON directory_link
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER directory_run_no_update_delete BEFORE UPDATE OR DELETE ON directory_run
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER directory_run_no_truncate BEFORE TRUNCATE ON directory_run
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER directory_suspension_no_update_delete BEFORE UPDATE OR DELETE ON directory_suspension
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER directory_suspension_no_truncate BEFORE TRUNCATE ON directory_suspension
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER directory_proposal_no_update_delete BEFORE UPDATE OR DELETE ON directory_proposal
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER directory_proposal_no_truncate BEFORE TRUNCATE ON directory_proposal
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER directory_proposal_decision_no_update_delete BEFORE UPDATE OR DELETE ON directory_proposal_decision
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER directory_proposal_decision_no_truncate BEFORE TRUNCATE ON directory_proposal_decision
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
GRANT SELECT, INSERT ON directory_link, directory_run, directory_suspension, directory_proposal,
  directory_proposal_decision TO mamori_app;
