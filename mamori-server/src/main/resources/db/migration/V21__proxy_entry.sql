-- Proxy entry (代行入力, issue 18 §4, DEGRADED-*, STORE-9): a clerk assisting physicians (医師事務作業補助者) or a
-- nurse enters a note on behalf of a physician; it stays a draft until the physician approves it (承認).
--  1. A new action, proxy_entry, on a category: "may enter for those in my department who may finalize it". The
--     access model decides who may enter for whom (AccessPolicy.mayEnterFor); nothing here decides it.
--  2. The role 医師事務作業補助者 (physician_clerk): reads and drafts clinical notes in its department, may enter them
--     for the department's physicians, never finalizes, amends or corrects them.
--  3. The queue of proxy entries: one row per entry, pending until approved (or withdrawn when the note was
--     finalized or corrected another way). The note itself carries the same facts (an extension on the Composition),
--     so that the record stands without this table; the table lets the physician's queue and the administrators'
--     escalation find them without reading clinical content.

ALTER TABLE role_permission DROP CONSTRAINT role_permission_action_check;
ALTER TABLE role_permission ADD CONSTRAINT role_permission_action_check
  CHECK (action IN ('read', 'search', 'create', 'update', 'finalize', 'amend', 'entered_in_error', 'export', 'print',
                    'proxy_entry'));

INSERT INTO role (code, name_ja, name_en, builtin, clinical_content, default_scope, created_at, created_by) VALUES
  ('physician_clerk', '医師事務作業補助者', 'Physician''s clerical assistant', true, true, 'department', now(),
   'migration');

INSERT INTO role_permission (role, category, action)
SELECT r, c, a FROM (VALUES
  ('physician_clerk', 'demographics',   'read,search'),
  ('physician_clerk', 'encounters',     'read,search'),
  ('physician_clerk', 'clinical_notes', 'read,search,create,update,proxy_entry'),
  ('nurse',           'clinical_notes', 'proxy_entry')
) AS p(r, c, actions), unnest(string_to_array(actions, ',')) AS a
ON CONFLICT DO NOTHING;

CREATE TABLE proxy_entry (
  composition_id text        PRIMARY KEY CHECK (composition_id ~ '^[A-Za-z0-9\-\.]{1,64}$'),
  patient_id     text        NOT NULL CHECK (patient_id ~ '^[A-Za-z0-9\-\.]{1,64}$'),
  entered_by     uuid        NOT NULL REFERENCES account,
  responsible    uuid        NOT NULL REFERENCES account,
  entered_at     timestamptz NOT NULL,
  state          text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'withdrawn')),
  closed_at      timestamptz,
  closed_by      uuid        REFERENCES account,
  CHECK (entered_by <> responsible),
  CHECK ((state = 'pending') = (closed_at IS NULL)),
  CHECK ((closed_at IS NULL) = (closed_by IS NULL))
);
CREATE INDEX proxy_entry_responsible_ix ON proxy_entry (responsible, entered_at) WHERE state = 'pending';
CREATE INDEX proxy_entry_pending_ix ON proxy_entry (entered_at) WHERE state = 'pending';
-- Rows are never deleted; only the closing columns change, once.
CREATE FUNCTION mamori_proxy_entry_close_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.state <> 'pending' OR NEW.composition_id <> OLD.composition_id OR NEW.patient_id <> OLD.patient_id
     OR NEW.entered_by <> OLD.entered_by OR NEW.responsible <> OLD.responsible OR NEW.entered_at <> OLD.entered_at THEN
    RAISE EXCEPTION 'mamori: a proxy entry is closed once and otherwise never changes'
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER proxy_entry_close_once BEFORE UPDATE ON proxy_entry
  FOR EACH ROW EXECUTE FUNCTION mamori_proxy_entry_close_once();
GRANT SELECT, INSERT ON proxy_entry TO mamori_app;
GRANT UPDATE (state, closed_at, closed_by) ON proxy_entry TO mamori_app;
