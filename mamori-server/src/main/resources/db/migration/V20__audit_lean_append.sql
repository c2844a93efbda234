-- Issue 24: the durable point of an audit entry stores only what the chain needs (AUDIT-1; ADR 0006, "The report
-- columns after the durable point").
--
-- Until now every group of entries was parsed as JSON inside its durable transaction to fill fifteen report columns
-- and five indexes: about 100 µs of database CPU per entry, as much as the read the entry records. Now:
--  * audit_log (the former audit_entry, renamed): seq, the canonical entry bytes and their leaf hash, nothing else.
--    mamori_audit_append stores a group there, checking seq and prev by comparing each entry's leading bytes (the
--    canonical form starts {"seq":N,"prev":"<base64>",) instead of parsing it.
--  * audit_report: the report columns, derived from the stored bytes by mamori_audit_report() in the database (so they
--    can say nothing the hashed entry does not; the runtime role may read them, never write them), after the durable
--    point and in bulk, by every server process's deriver about every 200 ms.
--  * audit_entry: a view, the report table joined with the log, plus the entries not yet derived, parsed on the fly;
--    so every report and query sees every entry at once, exactly as before.

-- 1. The log: the old table without its report columns, which move into audit_report first.
ALTER TABLE audit_entry RENAME TO audit_log;
ALTER TABLE audit_log RENAME CONSTRAINT audit_entry_pkey TO audit_log_pkey;

CREATE TABLE audit_report (
  seq           bigint      PRIMARY KEY,
  recorded_at   timestamptz NOT NULL,
  actor         text        NOT NULL,
  actor_kind    text        NOT NULL,
  actor_display text,
  roles         text[]      NOT NULL DEFAULT '{}',
  department    text,
  patients      text[]      NOT NULL DEFAULT '{}',
  action        text        NOT NULL,
  outcome       text        NOT NULL,
  purpose       text        NOT NULL,
  resources     text[]      NOT NULL DEFAULT '{}',
  address       text,
  session_hash  text,
  break_glass   boolean     NOT NULL DEFAULT false
);
INSERT INTO audit_report (seq, recorded_at, actor, actor_kind, actor_display, roles, department, patients, action,
                          outcome, purpose, resources, address, session_hash, break_glass)
  SELECT seq, recorded_at, actor, actor_kind, actor_display, roles, department, patients, action, outcome, purpose,
         resources, address, session_hash, break_glass FROM audit_log;

DROP INDEX audit_entry_time_ix, audit_entry_actor_ix, audit_entry_patients_ix, audit_entry_break_glass_ix,
  audit_entry_records_anchor_ix;
ALTER TABLE audit_log DROP COLUMN recorded_at, DROP COLUMN actor, DROP COLUMN actor_kind, DROP COLUMN actor_display,
  DROP COLUMN roles, DROP COLUMN department, DROP COLUMN patients, DROP COLUMN action, DROP COLUMN outcome,
  DROP COLUMN purpose, DROP COLUMN resources, DROP COLUMN address, DROP COLUMN session_hash, DROP COLUMN break_glass;
ALTER TRIGGER audit_entry_no_update_delete ON audit_log RENAME TO audit_log_no_update_delete;
ALTER TRIGGER audit_entry_no_truncate ON audit_log RENAME TO audit_log_no_truncate;

CREATE INDEX audit_report_time_ix ON audit_report (recorded_at, seq);
CREATE INDEX audit_report_actor_ix ON audit_report (actor, recorded_at);
CREATE INDEX audit_report_patients_ix ON audit_report USING gin (patients);
CREATE INDEX audit_report_break_glass_ix ON audit_report (recorded_at) WHERE break_glass;
CREATE INDEX audit_report_records_anchor_ix ON audit_report (seq) WHERE action = 'records.anchor';
CREATE TRIGGER audit_report_no_update_delete BEFORE UPDATE OR DELETE ON audit_report
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER audit_report_no_truncate BEFORE TRUNCATE ON audit_report
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

-- How far the report is derived: every entry below next_seq has its row.
CREATE TABLE audit_report_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  next_seq  bigint  NOT NULL CHECK (next_seq >= 0)
);
INSERT INTO audit_report_head (singleton, next_seq) SELECT true, coalesce(max(seq) + 1, 0) FROM audit_report;

-- 2. The head trigger counts the log's rows.
CREATE OR REPLACE FUNCTION mamori_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.next_seq > OLD.next_seq
     AND (SELECT count(*) FROM audit_log WHERE seq >= OLD.next_seq AND seq < NEW.next_seq) = NEW.next_seq - OLD.next_seq
     AND NEW.last_leaf = (SELECT leaf_hash FROM audit_log WHERE seq = NEW.next_seq - 1) THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'mamori: % on % is refused: the audit head only moves forward over stored entries', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;

-- 3. What an entry's bytes say, as report columns (the one place that parses an entry in the database).
CREATE FUNCTION mamori_audit_columns(p_entry bytea, OUT recorded_at timestamptz, OUT actor text, OUT actor_kind text,
    OUT actor_display text, OUT roles text[], OUT department text, OUT patients text[], OUT action text,
    OUT outcome text, OUT purpose text, OUT resources text[], OUT address text, OUT session_hash text,
    OUT break_glass boolean)
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
  j jsonb := convert_from(p_entry, 'UTF8')::jsonb;
BEGIN
  recorded_at := (j->>'time')::timestamptz;
  actor := j->>'actor';
  actor_kind := j->>'kind';
  actor_display := j->>'display';
  roles := ARRAY(SELECT jsonb_array_elements_text(coalesce(j->'role', '[]')));
  department := j->>'department';
  patients := ARRAY(SELECT jsonb_array_elements_text(coalesce(j->'patient', '[]')));
  action := j->>'action';
  outcome := j->>'outcome';
  purpose := j->>'purpose';
  resources := ARRAY(SELECT jsonb_array_elements_text(coalesce(j->'resource', '[]')));
  address := j->>'address';
  session_hash := j->>'session';
  break_glass := coalesce((j->>'breakGlass')::boolean, false);
END
$$;

-- The same for an entry that cannot be read (only a database superuser can store one: the appender checks what it
-- stores): a row that says so, so that neither the deriver nor a report stops at it.
CREATE FUNCTION mamori_audit_columns_safe(p_entry bytea, OUT recorded_at timestamptz, OUT actor text,
    OUT actor_kind text, OUT actor_display text, OUT roles text[], OUT department text, OUT patients text[],
    OUT action text, OUT outcome text, OUT purpose text, OUT resources text[], OUT address text,
    OUT session_hash text, OUT break_glass boolean)
LANGUAGE plpgsql STABLE AS $$
BEGIN
  SELECT * INTO recorded_at, actor, actor_kind, actor_display, roles, department, patients, action, outcome, purpose,
         resources, address, session_hash, break_glass FROM mamori_audit_columns(p_entry);
  IF recorded_at IS NULL OR actor IS NULL OR actor_kind IS NULL OR action IS NULL OR outcome IS NULL
     OR purpose IS NULL THEN
    RAISE EXCEPTION 'incomplete entry' USING ERRCODE = 'data_exception';
  END IF;
EXCEPTION WHEN others THEN
  recorded_at := '-infinity';
  actor := '(unreadable)';
  actor_kind := 'system';
  actor_display := NULL;
  roles := '{}';
  department := NULL;
  patients := '{}';
  action := 'unreadable';
  outcome := 'error';
  purpose := 'security';
  resources := '{}';
  address := NULL;
  session_hash := NULL;
  break_glass := false;
END
$$;

-- 4. The view every report reads: derived rows joined with the log (the join is left out when a query needs no
-- entry bytes), plus the tail not yet derived, parsed here.
CREATE VIEW audit_entry AS
  SELECT r.seq, r.recorded_at, l.entry, l.leaf_hash, r.actor, r.actor_kind, r.actor_display, r.roles, r.department,
         r.patients, r.action, r.outcome, r.purpose, r.resources, r.address, r.session_hash, r.break_glass
    FROM audit_report r LEFT JOIN audit_log l ON l.seq = r.seq
  UNION ALL
  SELECT l.seq, c.recorded_at, l.entry, l.leaf_hash, c.actor, c.actor_kind, c.actor_display, c.roles, c.department,
         c.patients, c.action, c.outcome, c.purpose, c.resources, c.address, c.session_hash, c.break_glass
    FROM audit_log l CROSS JOIN LATERAL mamori_audit_columns_safe(l.entry) c
   WHERE l.seq >= (SELECT h.next_seq FROM audit_report_head h);

-- 5. The deriver: up to p_max entries after the report's head, in one statement; returns how many. SECURITY DEFINER:
-- the runtime role calls it but cannot write audit_report itself. Two processes never derive the same rows (the
-- head is locked; a process that finds it locked returns 0 and lets the other one work).
CREATE FUNCTION mamori_audit_report(p_max integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  from_seq bigint;
  last_seq bigint;
  done integer;
  -- one statement holds at most 10,000 entries, whatever the caller asks (ReportDeriver asks for 5,000)
  n_max integer := least(greatest(p_max, 1), 10000);
BEGIN
  SELECT h.next_seq INTO from_seq FROM audit_report_head h FOR UPDATE SKIP LOCKED;
  IF from_seq IS NULL THEN
    RETURN 0;
  END IF;
  BEGIN
    WITH d AS MATERIALIZED (
      SELECT l.seq, c.* FROM audit_log l CROSS JOIN LATERAL mamori_audit_columns(l.entry) c
       WHERE l.seq >= from_seq AND l.seq < from_seq + n_max
    ), ins AS (
      INSERT INTO audit_report (seq, recorded_at, actor, actor_kind, actor_display, roles, department, patients, action,
                                outcome, purpose, resources, address, session_hash, break_glass)
      SELECT seq, recorded_at, actor, actor_kind, actor_display, roles, department, patients, action, outcome, purpose,
             resources, address, session_hash, break_glass FROM d
      RETURNING seq
    )
    SELECT count(*), max(seq) INTO done, last_seq FROM ins;
  EXCEPTION WHEN others THEN
    -- an entry that cannot be read stops the quick statement: derive these one by one, marking what is unreadable
    WITH d AS MATERIALIZED (
      SELECT l.seq, c.* FROM audit_log l CROSS JOIN LATERAL mamori_audit_columns_safe(l.entry) c
       WHERE l.seq >= from_seq AND l.seq < from_seq + n_max
    ), ins AS (
      INSERT INTO audit_report (seq, recorded_at, actor, actor_kind, actor_display, roles, department, patients,
                                action, outcome, purpose, resources, address, session_hash, break_glass)
      SELECT seq, recorded_at, actor, actor_kind, actor_display, roles, department, patients, action, outcome,
             purpose, resources, address, session_hash, break_glass FROM d
      RETURNING seq
    )
    SELECT count(*), max(seq) INTO done, last_seq FROM ins;
  END;
  IF done > 0 THEN
    -- the rows visible now are a prefix of the log (groups commit in order under the head's lock)
    UPDATE audit_report_head SET next_seq = last_seq + 1;
  END IF;
  RETURN done;
END
$$;
REVOKE ALL ON FUNCTION mamori_audit_report(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mamori_audit_report(integer) TO mamori_app;
REVOKE ALL ON FUNCTION mamori_audit_columns(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mamori_audit_columns(bytea) TO mamori_app;
REVOKE ALL ON FUNCTION mamori_audit_columns_safe(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mamori_audit_columns_safe(bytea) TO mamori_app;

-- 6. The append function: a group goes into the log, each entry's seq and prev checked on its leading bytes. The
-- entries come as one UTF-8 text, one per line (a canonical entry is one line of JSON: it never holds a raw newline),
-- sent as bytes: no array literal to build in the server and parse here, no hex escaping of every byte.
DROP FUNCTION mamori_audit_append(bigint, bytea, bytea[], bytea, bigint[]);
CREATE FUNCTION mamori_audit_append(expected_seq bigint, expected_leaf bytea, p_lines bytea, p_seal bytea,
                                    p_outbox bigint[], OUT appended boolean, OUT outbox_waiting boolean, OUT last_leaf bytea)
LANGUAGE plpgsql AS $$
DECLARE
  cur_seq bigint;
  cur_leaf bytea;
  inserted bigint;
  entries bytea[];
  n integer;
  m integer := coalesce(cardinality(p_outbox), 0);
  taken integer;
BEGIN
  PERFORM set_config('synchronous_commit', 'on', true);
  entries := ARRAY(SELECT convert_to(t.line, 'UTF8') FROM string_to_table(convert_from(p_lines, 'UTF8'), E'\n')
                     WITH ORDINALITY AS t(line, i) ORDER BY t.i);
  n := coalesce(cardinality(entries), 0);
  SELECT h.next_seq, h.last_leaf INTO cur_seq, cur_leaf FROM audit_head h FOR UPDATE;
  outbox_waiting := EXISTS (SELECT 1 FROM audit_outbox);
  appended := false;
  IF cur_seq IS DISTINCT FROM expected_seq OR cur_leaf IS DISTINCT FROM expected_leaf OR n = 0 THEN
    RETURN;
  END IF;
  IF m > 0 THEN
    BEGIN
      DELETE FROM audit_outbox WHERE outbox_id = ANY(p_outbox);
      GET DIAGNOSTICS taken = ROW_COUNT;
      IF taken <> m THEN
        RAISE EXCEPTION 'outbox rows gone' USING ERRCODE = 'serialization_failure';
      END IF;
    EXCEPTION WHEN serialization_failure THEN
      RETURN; -- another process moved one of them: nothing is deleted or written, the caller reads again
    END;
  END IF;
  WITH g AS MATERIALIZED (
    SELECT u.i, u.entry, sha256('\x00'::bytea || u.entry) AS leaf
      FROM unnest(entries) WITH ORDINALITY AS u(entry, i)
  ), c AS (
    SELECT g.i, g.entry, g.leaf, coalesce(lag(g.leaf) OVER (ORDER BY g.i), expected_leaf) AS prev FROM g
  ), ins AS (
    INSERT INTO audit_log (seq, entry, leaf_hash)
    SELECT expected_seq + c.i - 1, c.entry, c.leaf
      FROM c CROSS JOIN LATERAL (SELECT convert_to('{"seq":' || (expected_seq + c.i - 1) || CASE WHEN c.prev IS NULL
                   THEN ',' ELSE ',"prev":"' || encode(c.prev, 'base64') || '",' END, 'UTF8') AS head) h
     WHERE substring(c.entry FROM 1 FOR length(h.head)) = h.head
    RETURNING seq, leaf_hash
  )
  SELECT count(*), (array_agg(ins.leaf_hash ORDER BY ins.seq DESC))[1] INTO inserted, last_leaf FROM ins;
  IF inserted <> n THEN
    RAISE EXCEPTION 'mamori: % of % audit entries do not continue the chain from seq %', n - inserted, n,
      expected_seq USING ERRCODE = 'data_exception';
  END IF;
  UPDATE audit_head SET next_seq = expected_seq + n, last_leaf = mamori_audit_append.last_leaf;
  IF p_seal IS NOT NULL THEN
    -- after a superuser cut the trail's tail (and not its groups) a new group may end where an old one did: the
    -- entries are still stored (no audit, no answer must not turn into no service), and the stale seal makes the
    -- checkpointer refuse, as the cut itself already does
    INSERT INTO audit_group (first_seq, next_seq, seal) VALUES (expected_seq, expected_seq + n, p_seal)
      ON CONFLICT (next_seq) DO NOTHING;
  END IF;
  outbox_waiting := EXISTS (SELECT 1 FROM audit_outbox);
  appended := true;
END
$$;

REVOKE ALL ON FUNCTION mamori_audit_append(bigint, bytea, bytea, bytea, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mamori_audit_append(bigint, bytea, bytea, bytea, bigint[]) TO mamori_app;

-- 7. Privileges: the runtime role appends to the log and reads everything; the report is written only by the deriver.
GRANT SELECT ON audit_report, audit_report_head, audit_entry TO mamori_app;
