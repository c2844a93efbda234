-- Issue 15: a write's audit entry commits with the write, and the checkpointer signs only what a Mamori
-- appender stored (AUDIT-1, AUDIT-3; ADR 0006).

-- 1. The FHIR API writes a write's entry into audit_outbox in the transaction of the version (AUDIT-1: both or
-- neither). Such an entry says who with which roles and department, like the entries the appender writes directly.
ALTER TABLE audit_outbox ADD COLUMN roles text[] NOT NULL DEFAULT '{}', ADD COLUMN department text;

-- 2. One row per group of entries an appender stored: entries [first_seq, next_seq) and the group's seal, an
-- HMAC-SHA-256 of (first_seq, count, the entries' leaf hashes) under a key derived from the checkpoint signing key,
-- which the database never holds. Before it signs, the checkpointer checks that the groups tile the entries it is
-- about to cover and that every seal verifies, so an entry a database superuser appended (correctly chained) is
-- refused instead of signed. seal is NULL only on the one row this migration writes for entries stored before it
-- and not yet under a checkpoint (accepted only by the process that applied this migration).
CREATE TABLE audit_group (
  next_seq   bigint PRIMARY KEY CHECK (next_seq > 0),
  first_seq  bigint NOT NULL CHECK (first_seq >= 0 AND first_seq < next_seq),
  seal       bytea  CHECK (seal IS NULL OR length(seal) = 32)
);
CREATE TRIGGER audit_group_no_update_delete BEFORE UPDATE OR DELETE ON audit_group
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER audit_group_no_truncate BEFORE TRUNCATE ON audit_group
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
INSERT INTO audit_group (first_seq, next_seq, seal)
  SELECT coalesce((SELECT max(size) FROM audit_checkpoint), 0), h.next_seq, NULL FROM audit_head h
   WHERE h.next_seq > coalesce((SELECT max(size) FROM audit_checkpoint), 0);
GRANT SELECT, INSERT ON audit_group TO mamori_app;

-- 3. The append function of V12, which also stores the group's seal in the same transaction and moves the outbox
-- rows p_outbox that the group holds (the appender read them beforehand, without a lock): all of them are deleted
-- with the group, or, when one is gone (another server process moved it), nothing is written. With FHIR writes'
-- entries in the outbox, draining it must stay one round trip like any group (ADR 0006, "Storing a group").
DROP FUNCTION mamori_audit_append(bigint, bytea, bytea[]);
CREATE FUNCTION mamori_audit_append(expected_seq bigint, expected_leaf bytea, p_entry bytea[], p_seal bytea,
                                    p_outbox bigint[], OUT appended boolean, OUT outbox_waiting boolean, OUT last_leaf bytea)
LANGUAGE plpgsql AS $$
DECLARE
  cur_seq bigint;
  cur_leaf bytea;
  inserted bigint;
  n integer := coalesce(cardinality(p_entry), 0);
  m integer := coalesce(cardinality(p_outbox), 0);
  taken integer;
BEGIN
  PERFORM set_config('synchronous_commit', 'on', true);
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
  WITH g AS (
    SELECT u.i, u.entry, sha256('\x00'::bytea || u.entry) AS leaf, convert_from(u.entry, 'UTF8')::jsonb AS j
      FROM unnest(p_entry) WITH ORDINALITY AS u(entry, i)
  ), c AS (
    SELECT g.*, coalesce(lag(g.leaf) OVER (ORDER BY g.i), expected_leaf) AS prev_leaf FROM g
  ), ins AS (
    INSERT INTO audit_entry (seq, recorded_at, entry, leaf_hash, actor, actor_kind, actor_display, roles, department,
                             patients, action, outcome, purpose, resources, address, session_hash, break_glass)
    SELECT expected_seq + c.i - 1, (c.j->>'time')::timestamptz, c.entry, c.leaf, c.j->>'actor', c.j->>'kind',
           c.j->>'display', ARRAY(SELECT jsonb_array_elements_text(coalesce(c.j->'role', '[]'))),
           c.j->>'department', ARRAY(SELECT jsonb_array_elements_text(coalesce(c.j->'patient', '[]'))),
           c.j->>'action', c.j->>'outcome', c.j->>'purpose',
           ARRAY(SELECT jsonb_array_elements_text(coalesce(c.j->'resource', '[]'))),
           c.j->>'address', c.j->>'session', coalesce((c.j->>'breakGlass')::boolean, false)
      FROM c
     WHERE (c.j->>'seq')::bigint = expected_seq + c.i - 1
       AND (c.j->>'prev') IS NOT DISTINCT FROM encode(c.prev_leaf, 'base64')
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

REVOKE ALL ON FUNCTION mamori_audit_append(bigint, bytea, bytea[], bytea, bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mamori_audit_append(bigint, bytea, bytea[], bytea, bigint[]) TO mamori_app;
