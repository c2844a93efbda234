-- The audit trail (AUDIT-1, AUDIT-3): one row per entry, append-only like record history. seq is the 0-based
-- leaf index of the Merkle tree over the entries; entry holds the exact canonical bytes that are hashed
-- (leaf_hash = SHA-256(0x00 || entry)); the other columns repeat what the entry says, indexed for reports.

CREATE TABLE audit_entry (
  seq           bigint      PRIMARY KEY CHECK (seq >= 0),
  recorded_at   timestamptz NOT NULL,
  entry         bytea       NOT NULL,
  leaf_hash     bytea       NOT NULL CHECK (length(leaf_hash) = 32),
  actor         text        NOT NULL,
  actor_kind    text        NOT NULL CHECK (actor_kind IN ('person', 'client', 'system', 'anonymous')),
  actor_display text,
  roles         text[]      NOT NULL DEFAULT '{}',
  department    text,
  patients      text[]      NOT NULL DEFAULT '{}',
  action        text        NOT NULL,
  outcome       text        NOT NULL CHECK (outcome IN ('success', 'refused', 'invalid', 'error')),
  purpose       text        NOT NULL,
  resources     text[]      NOT NULL DEFAULT '{}',
  address       text,
  session_hash  text,
  break_glass   boolean     NOT NULL DEFAULT false
);
CREATE INDEX audit_entry_time_ix ON audit_entry (recorded_at, seq);
CREATE INDEX audit_entry_actor_ix ON audit_entry (actor, recorded_at);
CREATE INDEX audit_entry_patients_ix ON audit_entry USING gin (patients);
CREATE INDEX audit_entry_break_glass_ix ON audit_entry (recorded_at) WHERE break_glass;

CREATE TRIGGER audit_entry_no_update_delete BEFORE UPDATE OR DELETE ON audit_entry
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

-- The tree's head: the next leaf index and the last leaf hash. The appender locks this one row FOR UPDATE per
-- batch, so several server processes on one database append one gap-free sequence.
CREATE TABLE audit_head (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  next_seq    bigint  NOT NULL CHECK (next_seq >= 0),
  last_leaf   bytea   CHECK (last_leaf IS NULL OR length(last_leaf) = 32)
);
INSERT INTO audit_head (singleton, next_seq, last_leaf) VALUES (true, 0, NULL);
-- The head only moves forward, and only together with the entries it counts.
CREATE FUNCTION mamori_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.next_seq > OLD.next_seq
     AND (SELECT count(*) FROM audit_entry WHERE seq >= OLD.next_seq AND seq < NEW.next_seq) = NEW.next_seq - OLD.next_seq
     AND NEW.last_leaf = (SELECT leaf_hash FROM audit_entry WHERE seq = NEW.next_seq - 1) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'mamori: % on % is refused: the audit head only moves forward over stored entries', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head
  FOR EACH ROW EXECUTE FUNCTION mamori_audit_head_forward();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

-- Events that other capabilities write in their own transactions (logins, account, role and access changes,
-- break-glass) reach the trail through this outbox: a trigger adds a row in the same transaction as the
-- event, and the appender moves it into audit_entry (deleting it in the same transaction). An event is
-- therefore never committed without its audit row, whatever code path wrote it.
CREATE TABLE audit_outbox (
  outbox_id     bigserial   PRIMARY KEY,
  at            timestamptz NOT NULL,
  actor         text        NOT NULL,
  actor_kind    text        NOT NULL,
  actor_display text,
  patients      text[]      NOT NULL DEFAULT '{}',
  action        text        NOT NULL,
  outcome       text        NOT NULL,
  purpose       text        NOT NULL,
  resources     text[]      NOT NULL DEFAULT '{}',
  address       text,
  session_hash  text,
  break_glass   boolean     NOT NULL DEFAULT false,
  detail        jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE TRIGGER audit_outbox_no_update BEFORE UPDATE ON audit_outbox
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();

CREATE FUNCTION mamori_audit_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  b break_glass%ROWTYPE;
BEGIN
  IF TG_TABLE_NAME = 'auth_event' THEN
    INSERT INTO audit_outbox (at, actor, actor_kind, actor_display, action, outcome, purpose, address, detail)
    VALUES (NEW.at, coalesce('account:' || NEW.account_id::text, 'login:' || coalesce(NEW.login_id, '-')),
            CASE WHEN NEW.account_id IS NULL THEN 'anonymous' ELSE 'person' END, NEW.login_id,
            'auth.' || NEW.event, CASE NEW.outcome WHEN 'success' THEN 'success' ELSE 'refused' END,
            'security', NEW.address,
            jsonb_strip_nulls(jsonb_build_object('detail', NEW.detail)));
  ELSIF TG_TABLE_NAME = 'account_change' THEN
    INSERT INTO audit_outbox (at, actor, actor_kind, action, outcome, purpose, resources, detail)
    VALUES (NEW.at, NEW.by_principal, CASE WHEN NEW.by_principal LIKE 'account:%' THEN 'person' ELSE 'system' END,
            'account.' || NEW.action, 'success', 'administration', ARRAY['Account/' || NEW.account_id::text],
            NEW.detail);
  ELSIF TG_TABLE_NAME = 'access_change' THEN
    INSERT INTO audit_outbox (at, actor, actor_kind, action, outcome, purpose, resources, detail)
    VALUES (NEW.at, NEW.by_principal, CASE WHEN NEW.by_principal LIKE 'account:%' THEN 'person' ELSE 'system' END,
            'access.' || NEW.action, 'success', 'administration', ARRAY[NEW.subject], NEW.detail);
  ELSIF TG_TABLE_NAME = 'break_glass' AND TG_OP = 'INSERT' THEN
    INSERT INTO audit_outbox (at, actor, actor_kind, patients, action, outcome, purpose, resources, address,
                              session_hash, break_glass, detail)
    VALUES (NEW.started_at, 'account:' || NEW.account_id::text, 'person', ARRAY[NEW.patient_id], 'break-glass.start',
            'success', 'break-glass', ARRAY['BreakGlass/' || NEW.break_glass_id::text], NEW.address, NEW.session_ref,
            true, jsonb_build_object('department', NEW.department, 'reason', NEW.reason_code,
                                     'reasonText', NEW.reason_text, 'expires', NEW.expires_at));
  ELSIF TG_TABLE_NAME = 'break_glass' THEN
    INSERT INTO audit_outbox (at, actor, actor_kind, patients, action, outcome, purpose, resources, break_glass)
    VALUES (NEW.ended_at, NEW.ended_by, CASE WHEN NEW.ended_by LIKE 'account:%' THEN 'person' ELSE 'system' END,
            ARRAY[NEW.patient_id], 'break-glass.end', 'success', 'break-glass',
            ARRAY['BreakGlass/' || NEW.break_glass_id::text], true);
  ELSIF TG_TABLE_NAME = 'break_glass_access' THEN
    SELECT * INTO b FROM break_glass WHERE break_glass_id = NEW.break_glass_id;
    INSERT INTO audit_outbox (at, actor, actor_kind, patients, action, outcome, purpose, resources, break_glass,
                              detail)
    VALUES (NEW.at, 'account:' || b.account_id::text, 'person', ARRAY[b.patient_id], 'break-glass.use', 'success',
            'break-glass', ARRAY['BreakGlass/' || NEW.break_glass_id::text], true, jsonb_build_object('what', NEW.what));
  ELSIF TG_TABLE_NAME = 'break_glass_review' THEN
    SELECT * INTO b FROM break_glass WHERE break_glass_id = NEW.break_glass_id;
    INSERT INTO audit_outbox (at, actor, actor_kind, actor_display, patients, action, outcome, purpose, resources,
                              break_glass, detail)
    VALUES (NEW.reviewed_at, 'account:' || NEW.reviewer_account::text, 'person', NEW.reviewer, ARRAY[b.patient_id],
            'break-glass.review', 'success', 'audit', ARRAY['BreakGlass/' || NEW.break_glass_id::text], true,
            jsonb_build_object('decision', NEW.decision, 'comment', NEW.comment));
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER auth_event_audit AFTER INSERT ON auth_event FOR EACH ROW EXECUTE FUNCTION mamori_audit_outbox();
CREATE TRIGGER account_change_audit AFTER INSERT ON account_change FOR EACH ROW EXECUTE FUNCTION mamori_audit_outbox();
CREATE TRIGGER access_change_audit AFTER INSERT ON access_change FOR EACH ROW EXECUTE FUNCTION mamori_audit_outbox();
CREATE TRIGGER break_glass_audit AFTER INSERT OR UPDATE ON break_glass FOR EACH ROW EXECUTE FUNCTION mamori_audit_outbox();
CREATE TRIGGER break_glass_access_audit AFTER INSERT ON break_glass_access
  FOR EACH ROW EXECUTE FUNCTION mamori_audit_outbox();
CREATE TRIGGER break_glass_review_audit AFTER INSERT ON break_glass_review
  FOR EACH ROW EXECUTE FUNCTION mamori_audit_outbox();

-- Review sign-off (AUDIT-2): a reviewer marks a period (optionally one department) reviewed, with findings.
-- The sign-off is also an audit entry (audit_seq).
CREATE TABLE audit_review (
  review_id    bigserial   PRIMARY KEY,
  period_from  date        NOT NULL,
  period_to    date        NOT NULL CHECK (period_to >= period_from),
  department   text        CHECK (department IS NULL OR length(department) BETWEEN 1 AND 100),
  findings     text        NOT NULL CHECK (length(btrim(findings)) BETWEEN 1 AND 4000),
  reviewer     text        NOT NULL,
  reviewed_at  timestamptz NOT NULL
);
CREATE INDEX audit_review_period_ix ON audit_review (period_from, period_to);
CREATE TRIGGER audit_review_no_update_delete BEFORE UPDATE OR DELETE ON audit_review
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER audit_review_no_truncate BEFORE TRUNCATE ON audit_review
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

GRANT SELECT, INSERT ON audit_entry, audit_review TO mamori_app;
GRANT SELECT, UPDATE ON audit_head TO mamori_app;
GRANT SELECT, INSERT, DELETE ON audit_outbox TO mamori_app;
GRANT USAGE ON SEQUENCE audit_outbox_outbox_id_seq, audit_review_review_id_seq TO mamori_app;
