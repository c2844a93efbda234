-- The head of a resource and its search index rows change only with a new version (STORE-1 真正性; ADR 0002,
-- "Head and index follow the versions").
--
-- Until now the runtime role could UPDATE the head and DELETE/INSERT index rows, so `UPDATE resource SET deleted =
-- true` hid a record from search with no version and no audit entry. Now the runtime role only reads these tables;
-- it writes a record by calling mamori_write_version, which runs as the owner and, in one call (one round trip, as
-- the one-statement write did before):
--   * refuses a version number that does not follow the head's (1 for a new resource);
--   * appends the version;
--   * derives the head from that version: version, deleted (no body), lifecycle, last_updated (recorded_at); the
--     access columns (patients, doc_codes, labels) come from the caller, computed from the same index rows;
--   * replaces the index rows with the ones passed in, all of them for this version's resource and type.
-- The index rows are computed in Java (SearchIndexer, FHIRPath over every R4 search parameter); PostgreSQL cannot
-- compute them, so the function cannot check their values. `mamori verify-records` recomputes them from the newest
-- version with the same code and reports every difference, as it does for the head.
--
-- Taking the head's row lock (SELECT ... FOR UPDATE) needs the UPDATE privilege, so the lock is taken by
-- mamori_lock_head, which also returns the head with the chain value of its version (one round trip instead of two).

CREATE FUNCTION mamori_lock_head(p_type text, p_id text,
                                 OUT h_pk bigint, OUT h_version integer, OUT h_deleted boolean, OUT h_lifecycle text,
                                 OUT h_last_updated timestamptz, OUT h_patients text[], OUT h_doc_codes text[],
                                 OUT h_labels text[], OUT h_chain bytea)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  -- The lock is taken on resource alone: after waiting for a concurrent writer, PostgreSQL re-reads the locked row
  -- but not rows joined to it. The chain is read by the next statement, whose fresh snapshot sees the version that
  -- the concurrent writer committed.
  SELECT r.res_pk, r.version, r.deleted, r.lifecycle, r.last_updated, r.patients, r.doc_codes, r.labels
    INTO h_pk, h_version, h_deleted, h_lifecycle, h_last_updated, h_patients, h_doc_codes, h_labels
    FROM resource r WHERE r.res_type = p_type AND r.res_id = p_id FOR UPDATE;
  IF h_pk IS NULL THEN
    RETURN;
  END IF;
  SELECT v.chain_sha256 INTO h_chain FROM resource_version v WHERE v.res_pk = h_pk AND v.version = h_version;
  IF h_chain IS NULL THEN
    RAISE EXCEPTION 'mamori: resource %/% has no stored version %', p_type, p_id, h_version
      USING ERRCODE = 'internal_error';
  END IF;
END
$$;

-- Returns the resource's res_pk, or NULL when p_expected is not the head's version (the caller holds the head's row
-- lock, so that means a bug; it reports a conflict). A new resource (p_expected NULL) whose type and id exist already
-- fails on the unique key (23505), as before.
CREATE FUNCTION mamori_write_version(
    p_expected integer, p_type text, p_id text, p_version integer, p_recorded_at timestamptz, p_author text,
    p_reason text, p_operation text, p_lifecycle text, p_body text, p_content bytea, p_chain bytea,
    p_patients text[], p_doc_codes text[], p_labels text[],
    s_param text[], s_norm text[], s_exact text[],
    t_param text[], t_system text[], t_code text[], t_display text[],
    d_param text[], d_lo timestamptz[], d_hi timestamptz[],
    r_param text[], r_target_type text[], r_target_id text[], r_url text[],
    q_param text[], q_value numeric[], q_system text[], q_code text[],
    u_param text[], u_uri text[],
    c_patient text[], c_place text[], c_starts timestamptz[], c_ends timestamptz[])
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  pk bigint;
  gone boolean := p_body IS NULL; -- a deletion: no access columns, no index rows
BEGIN
  IF p_version IS DISTINCT FROM coalesce(p_expected, 0) + 1 THEN
    RAISE EXCEPTION 'mamori: version % of %/% does not follow version %', p_version, p_type, p_id,
      coalesce(p_expected, 0) USING ERRCODE = 'data_exception';
  END IF;
  IF p_expected IS NULL THEN
    INSERT INTO resource (res_type, res_id, version, deleted, lifecycle, last_updated, patients, doc_codes, labels)
    VALUES (p_type, p_id, p_version, gone, p_lifecycle, p_recorded_at,
            CASE WHEN gone THEN '{}' ELSE coalesce(p_patients, '{}') END,
            CASE WHEN gone THEN '{}' ELSE coalesce(p_doc_codes, '{}') END,
            CASE WHEN gone THEN '{}' ELSE coalesce(p_labels, '{}') END)
    RETURNING res_pk INTO pk;
  ELSE
    UPDATE resource r SET version = p_version, deleted = gone, lifecycle = p_lifecycle, last_updated = p_recorded_at,
           patients = CASE WHEN gone THEN '{}' ELSE coalesce(p_patients, '{}') END,
           doc_codes = CASE WHEN gone THEN '{}' ELSE coalesce(p_doc_codes, '{}') END,
           labels = CASE WHEN gone THEN '{}' ELSE coalesce(p_labels, '{}') END
     WHERE r.res_type = p_type AND r.res_id = p_id AND r.version = p_expected
    RETURNING r.res_pk INTO pk;
    IF pk IS NULL THEN
      RETURN NULL;
    END IF;
    DELETE FROM sp_string WHERE res_pk = pk;
    DELETE FROM sp_token WHERE res_pk = pk;
    DELETE FROM sp_date WHERE res_pk = pk;
    DELETE FROM sp_reference WHERE res_pk = pk;
    DELETE FROM sp_quantity WHERE res_pk = pk;
    DELETE FROM sp_uri WHERE res_pk = pk;
    DELETE FROM encounter_care WHERE res_pk = pk;
  END IF;
  INSERT INTO resource_version (res_pk, version, res_type, res_id, recorded_at, author, reason, operation, lifecycle,
                                body, content_sha256, chain_sha256)
  VALUES (pk, p_version, p_type, p_id, p_recorded_at, p_author, p_reason, p_operation, p_lifecycle, p_body,
          p_content, p_chain);
  IF gone THEN
    RETURN pk;
  END IF;
  IF cardinality(s_param) > 0 THEN
    INSERT INTO sp_string (res_pk, res_type, param, norm, exact)
      SELECT pk, p_type, u.* FROM unnest(s_param, s_norm, s_exact) u;
  END IF;
  IF cardinality(t_param) > 0 THEN
    INSERT INTO sp_token (res_pk, res_type, param, system, code, display)
      SELECT pk, p_type, u.* FROM unnest(t_param, t_system, t_code, t_display) u;
  END IF;
  IF cardinality(d_param) > 0 THEN
    INSERT INTO sp_date (res_pk, res_type, param, lo, hi)
      SELECT pk, p_type, u.* FROM unnest(d_param, d_lo, d_hi) u;
  END IF;
  IF cardinality(r_param) > 0 THEN
    INSERT INTO sp_reference (res_pk, res_type, param, target_type, target_id, url)
      SELECT pk, p_type, u.* FROM unnest(r_param, r_target_type, r_target_id, r_url) u;
  END IF;
  IF cardinality(q_param) > 0 THEN
    INSERT INTO sp_quantity (res_pk, res_type, param, value, system, code)
      SELECT pk, p_type, u.* FROM unnest(q_param, q_value, q_system, q_code) u;
  END IF;
  IF cardinality(u_param) > 0 THEN
    INSERT INTO sp_uri (res_pk, res_type, param, uri)
      SELECT pk, p_type, u.* FROM unnest(u_param, u_uri) u;
  END IF;
  IF cardinality(c_patient) > 0 THEN
    INSERT INTO encounter_care (res_pk, patient_id, place, starts, ends)
      SELECT pk, u.* FROM unnest(c_patient, c_place, c_starts, c_ends) u;
  END IF;
  RETURN pk;
END
$$;

REVOKE ALL ON FUNCTION mamori_lock_head(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mamori_lock_head(text, text) TO mamori_app;
REVOKE ALL ON FUNCTION mamori_write_version(integer, text, text, integer, timestamptz, text, text, text, text, text,
    bytea, bytea, text[], text[], text[], text[], text[], text[], text[], text[], text[], text[], text[],
    timestamptz[], timestamptz[], text[], text[], text[], text[], text[], numeric[], text[], text[], text[], text[],
    text[], text[], timestamptz[], timestamptz[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mamori_write_version(integer, text, text, integer, timestamptz, text, text, text, text, text,
    bytea, bytea, text[], text[], text[], text[], text[], text[], text[], text[], text[], text[], text[],
    timestamptz[], timestamptz[], text[], text[], text[], text[], text[], numeric[], text[], text[], text[], text[],
    text[], text[], timestamptz[], timestamptz[]) TO mamori_app;

-- The runtime role reads the head, the versions and the index; it writes them only through the functions above.
-- place_version is written only by the encounter_care triggers (V13), which now run as the owner.
REVOKE ALL ON resource, resource_version, sp_string, sp_token, sp_date, sp_reference, sp_quantity, sp_uri,
    encounter_care, place_version FROM mamori_app;
GRANT SELECT ON resource, resource_version, sp_string, sp_token, sp_date, sp_reference, sp_quantity, sp_uri,
    encounter_care, place_version TO mamori_app;
