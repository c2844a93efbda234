-- Periodic access review (ACCESS-5, the inspection checklist's "are access rights reviewed"): a manager lists
-- who holds which role in a department, with when they last used the system, and confirms or removes each.
-- The review, its items and each decision (who, when, why) are kept; nothing is rewritten or deleted.

CREATE TABLE access_review (
  review_id    uuid        PRIMARY KEY,
  department   text        NOT NULL CHECK (length(department) BETWEEN 1 AND 100),
  started_by   uuid        NOT NULL REFERENCES account,
  started_at   timestamptz NOT NULL,
  completed_at timestamptz,
  completed_by uuid        REFERENCES account,
  CHECK ((completed_at IS NULL) = (completed_by IS NULL))
);
-- One open review per department at a time.
CREATE UNIQUE INDEX access_review_open_ux ON access_review (department) WHERE completed_at IS NULL;
CREATE INDEX access_review_started_ix ON access_review (started_at);

-- One row per role assignment in force when the review started. The decision is written once.
CREATE TABLE access_review_item (
  item_id       bigserial   PRIMARY KEY,
  review_id     uuid        NOT NULL REFERENCES access_review,
  assignment_id uuid        NOT NULL REFERENCES role_assignment,
  account_id    uuid        NOT NULL REFERENCES account,
  role          text        NOT NULL REFERENCES role,
  department    text        NOT NULL,
  -- The account's last login when the review started (NULL: never logged in).
  last_used_at  timestamptz,
  decision      text        CHECK (decision IN ('confirm', 'remove')),
  decided_by    uuid        REFERENCES account,
  decided_at    timestamptz,
  note          text        CHECK (note IS NULL OR length(note) <= 1000),
  UNIQUE (review_id, assignment_id),
  CHECK ((decision IS NULL) = (decided_by IS NULL) AND (decision IS NULL) = (decided_at IS NULL))
);
CREATE INDEX access_review_item_review_ix ON access_review_item (review_id, item_id);

-- A review can only be completed, once; an item can only be decided, once. Nothing is deleted.
CREATE FUNCTION mamori_access_review_complete_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.completed_at IS NULL AND NEW.completed_at IS NOT NULL
     AND NEW.review_id = OLD.review_id AND NEW.department = OLD.department
     AND NEW.started_by = OLD.started_by AND NEW.started_at = OLD.started_at THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'mamori: % on % is refused: the access review history is never rewritten', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE FUNCTION mamori_access_review_decide_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.decision IS NULL AND NEW.decision IS NOT NULL
     AND NEW.item_id = OLD.item_id AND NEW.review_id = OLD.review_id
     AND NEW.assignment_id = OLD.assignment_id AND NEW.account_id = OLD.account_id AND NEW.role = OLD.role
     AND NEW.department = OLD.department AND NEW.last_used_at IS NOT DISTINCT FROM OLD.last_used_at THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'mamori: % on % is refused: the access review history is never rewritten', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER access_review_complete_once BEFORE UPDATE OR DELETE ON access_review
  FOR EACH ROW EXECUTE FUNCTION mamori_access_review_complete_once();
CREATE TRIGGER access_review_item_decide_once BEFORE UPDATE OR DELETE ON access_review_item
  FOR EACH ROW EXECUTE FUNCTION mamori_access_review_decide_once();
CREATE TRIGGER access_review_no_truncate BEFORE TRUNCATE ON access_review
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER access_review_item_no_truncate BEFORE TRUNCATE ON access_review_item
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

GRANT SELECT, INSERT ON access_review, access_review_item TO mamori_app;
GRANT UPDATE (completed_at, completed_by) ON access_review TO mamori_app;
GRANT UPDATE (decision, decided_by, decided_at, note) ON access_review_item TO mamori_app;
GRANT USAGE ON SEQUENCE access_review_item_item_id_seq TO mamori_app;
