-- Break-glass (緊急時アクセス): a person without a care relationship opens one patient's record in an
-- emergency, for a limited time, with a stated reason and a fresh second factor. Every use is reviewed
-- afterwards (DEGRADED-3, ACCESS-*). The history (uses, access marks, reviews, escalations) is never rewritten.

CREATE TABLE break_glass (
  break_glass_id  uuid        PRIMARY KEY,
  account_id      uuid        NOT NULL REFERENCES account,
  -- The FHIR Patient logical id the access is for.
  patient_id      text        NOT NULL CHECK (patient_id ~ '^[A-Za-z0-9.-]{1,64}$'),
  -- The person's departments when the access started, as they were then.
  department      text        NOT NULL CHECK (length(department) <= 500),
  reason_code     text        NOT NULL CHECK (reason_code IN ('emergency_treatment', 'unconscious_patient',
                                'covering_colleague', 'other')),
  reason_text     text        NOT NULL CHECK (length(btrim(reason_text)) BETWEEN 10 AND 2000),
  started_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  ended_at        timestamptz,
  ended_by        text,
  session_ref     text        NOT NULL,
  address         text        NOT NULL,
  CONSTRAINT break_glass_window_ck CHECK (expires_at > started_at AND expires_at <= started_at + interval '12 hours'),
  CONSTRAINT break_glass_end_ck CHECK ((ended_at IS NULL) = (ended_by IS NULL))
);
CREATE INDEX break_glass_open_ix ON break_glass (account_id, patient_id) WHERE ended_at IS NULL;
CREATE INDEX break_glass_patient_ix ON break_glass (patient_id, started_at);
CREATE INDEX break_glass_started_ix ON break_glass (started_at);

-- A use may be ended early, once; nothing else about it changes, and it is never deleted.
CREATE FUNCTION mamori_break_glass_end_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.ended_at IS NULL AND NEW.ended_at IS NOT NULL
     AND NEW.break_glass_id = OLD.break_glass_id AND NEW.account_id = OLD.account_id
     AND NEW.patient_id = OLD.patient_id AND NEW.department = OLD.department
     AND NEW.reason_code = OLD.reason_code AND NEW.reason_text = OLD.reason_text
     AND NEW.started_at = OLD.started_at AND NEW.expires_at = OLD.expires_at
     AND NEW.session_ref = OLD.session_ref AND NEW.address = OLD.address THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'mamori: % on % is refused: a break-glass use can only be ended, once', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER break_glass_end_only BEFORE UPDATE OR DELETE ON break_glass
  FOR EACH ROW EXECUTE FUNCTION mamori_break_glass_end_only();
CREATE TRIGGER break_glass_no_truncate BEFORE TRUNCATE ON break_glass
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

-- What was done under a break-glass use (the audit capability takes these marks over).
CREATE TABLE break_glass_access (
  access_id       bigserial   PRIMARY KEY,
  break_glass_id  uuid        NOT NULL REFERENCES break_glass,
  at              timestamptz NOT NULL,
  what            text        NOT NULL CHECK (length(what) BETWEEN 1 AND 300)
);
CREATE INDEX break_glass_access_use_ix ON break_glass_access (break_glass_id, access_id);

-- The reviewer's decision. Several rows per use are possible (a follow-up is decided later); the latest counts.
CREATE TABLE break_glass_review (
  review_id        bigserial   PRIMARY KEY,
  break_glass_id   uuid        NOT NULL REFERENCES break_glass,
  decision         text        NOT NULL CHECK (decision IN ('appropriate', 'inappropriate', 'follow_up')),
  comment          text        NOT NULL CHECK (length(btrim(comment)) BETWEEN 5 AND 2000),
  reviewer         text        NOT NULL,
  reviewer_account uuid        NOT NULL REFERENCES account,
  reviewed_at      timestamptz NOT NULL
);
CREATE INDEX break_glass_review_use_ix ON break_glass_review (break_glass_id, review_id);

-- Nobody reviews their own use, whatever the application does.
CREATE FUNCTION mamori_break_glass_not_own_review() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM break_glass b WHERE b.break_glass_id = NEW.break_glass_id
             AND b.account_id = NEW.reviewer_account) THEN
    RAISE EXCEPTION 'mamori: a break-glass use cannot be reviewed by the person who used it'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER break_glass_review_not_own BEFORE INSERT ON break_glass_review
  FOR EACH ROW EXECUTE FUNCTION mamori_break_glass_not_own_review();

-- An unreviewed use past the configured age is escalated: level 1 at that age, level 2 at twice it, ...
CREATE TABLE break_glass_escalation (
  escalation_id   bigserial   PRIMARY KEY,
  break_glass_id  uuid        NOT NULL REFERENCES break_glass,
  escalated_at    timestamptz NOT NULL,
  level           integer     NOT NULL CHECK (level BETWEEN 1 AND 1000),
  UNIQUE (break_glass_id, level)
);

CREATE TRIGGER break_glass_access_no_update_delete BEFORE UPDATE OR DELETE ON break_glass_access
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER break_glass_review_no_update_delete BEFORE UPDATE OR DELETE ON break_glass_review
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER break_glass_escalation_no_update_delete BEFORE UPDATE OR DELETE ON break_glass_escalation
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER break_glass_access_no_truncate BEFORE TRUNCATE ON break_glass_access
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER break_glass_review_no_truncate BEFORE TRUNCATE ON break_glass_review
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER break_glass_escalation_no_truncate BEFORE TRUNCATE ON break_glass_escalation
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

-- The security manager's inbox in the console: notices are kept; only "read" is recorded on them.
CREATE TABLE access_notice (
  notice_id       bigserial   PRIMARY KEY,
  at              timestamptz NOT NULL,
  event           text        NOT NULL CHECK (event ~ '^[a-z][a-z0-9_.-]{1,31}$'),
  break_glass_id  uuid        REFERENCES break_glass,
  subject         text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 500),
  detail          text        NOT NULL CHECK (length(detail) <= 4000),
  read_at         timestamptz,
  read_by         text
);
CREATE INDEX access_notice_unread_ix ON access_notice (notice_id) WHERE read_at IS NULL;
CREATE TRIGGER access_notice_no_delete BEFORE DELETE ON access_notice
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER access_notice_no_truncate BEFORE TRUNCATE ON access_notice
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

GRANT SELECT, INSERT ON break_glass, break_glass_access, break_glass_review, break_glass_escalation,
  access_notice TO mamori_app;
GRANT UPDATE (ended_at, ended_by) ON break_glass TO mamori_app;
GRANT UPDATE (read_at, read_by) ON access_notice TO mamori_app;
GRANT USAGE ON SEQUENCE break_glass_access_access_id_seq, break_glass_review_review_id_seq,
  break_glass_escalation_escalation_id_seq, access_notice_notice_id_seq TO mamori_app;
