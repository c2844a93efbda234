-- One round trip per group of audit entries (AUDIT-1; ADR 0006, "Storing a group").
--
-- The appender numbers and chains a group in memory from the head it last wrote and calls this function in
-- autocommit, passing only the canonical entries. The function locks the head and writes nothing when the head
-- is not the one expected (another server process on the same database moved it): the caller then reads the
-- head and numbers the group again. Otherwise it checks that the entries continue the chain (seq in order from
-- the head, each prev = the leaf hash before it), computes each leaf hash (SHA-256 of 0x00 || entry), fills the
-- report columns from the entry itself, so they cannot say anything the hashed entry does not, moves the head
-- (whose trigger checks count and last leaf again) and commits with synchronous_commit = on whatever the
-- session says. It also reports whether outbox events wait, so that the appender moves them next.
CREATE FUNCTION mamori_audit_append(expected_seq bigint, expected_leaf bytea, p_entry bytea[],
                                    OUT appended boolean, OUT outbox_waiting boolean, OUT last_leaf bytea)
LANGUAGE plpgsql AS $$
DECLARE
  cur_seq bigint;
  cur_leaf bytea;
  inserted bigint;
  n integer := coalesce(cardinality(p_entry), 0);
BEGIN
  PERFORM set_config('synchronous_commit', 'on', true);
  SELECT h.next_seq, h.last_leaf INTO cur_seq, cur_leaf FROM audit_head h FOR UPDATE;
  outbox_waiting := EXISTS (SELECT 1 FROM audit_outbox);
  appended := false;
  IF cur_seq IS DISTINCT FROM expected_seq OR cur_leaf IS DISTINCT FROM expected_leaf OR n = 0 THEN
    RETURN;
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
  appended := true;
END
$$;

REVOKE ALL ON FUNCTION mamori_audit_append(bigint, bytea, bytea[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mamori_audit_append(bigint, bytea, bytea[]) TO mamori_app;
