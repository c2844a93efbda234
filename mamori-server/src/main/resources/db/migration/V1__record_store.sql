-- Mamori record store. Versions are append-only: the runtime role may only SELECT and INSERT
-- resource_version, and triggers refuse UPDATE, DELETE and TRUNCATE for every role (STORE-1, STORE-9).

-- The runtime role. The server connects as the migration user and then SET ROLE mamori_app, so the
-- privileges below are the ones that request handling runs with.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mamori_app') THEN
    CREATE ROLE mamori_app NOLOGIN;
  END IF;
END
$$;
GRANT mamori_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO mamori_app;

-- The head of each resource: which version is current. Mutable by design (it is derived from the versions).
CREATE TABLE resource (
  res_pk        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  res_type      text        NOT NULL,
  res_id        text        NOT NULL,
  version       integer     NOT NULL,
  deleted       boolean     NOT NULL DEFAULT false,
  lifecycle     text,
  last_updated  timestamptz NOT NULL,
  CONSTRAINT resource_type_id_uk UNIQUE (res_type, res_id)
);
CREATE INDEX resource_type_updated_ix ON resource (res_type, last_updated, res_pk);

-- Every version ever written. Never updated, never deleted.
CREATE TABLE resource_version (
  seq             bigint GENERATED ALWAYS AS IDENTITY,
  res_pk          bigint      NOT NULL REFERENCES resource (res_pk),
  version         integer     NOT NULL CHECK (version > 0),
  res_type        text        NOT NULL,
  res_id          text        NOT NULL,
  recorded_at     timestamptz NOT NULL,
  author          text        NOT NULL,
  reason          text,
  operation       text        NOT NULL CHECK (operation IN ('create', 'update', 'delete', 'amend', 'entered-in-error')),
  lifecycle       text,
  body            text,
  content_sha256  bytea       CHECK (content_sha256 IS NULL OR length(content_sha256) = 32),
  chain_sha256    bytea       NOT NULL CHECK (length(chain_sha256) = 32),
  PRIMARY KEY (res_pk, version),
  CONSTRAINT resource_version_seq_uk UNIQUE (seq),
  CONSTRAINT resource_version_body_ck CHECK ((operation = 'delete') = (body IS NULL)),
  CONSTRAINT resource_version_hash_ck CHECK ((body IS NULL) = (content_sha256 IS NULL))
);
CREATE INDEX resource_version_type_seq_ix ON resource_version (res_type, seq);

CREATE FUNCTION mamori_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'mamori: % on % is refused: stored versions are append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER resource_version_no_update_delete BEFORE UPDATE OR DELETE ON resource_version
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER resource_version_no_truncate BEFORE TRUNCATE ON resource_version
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

-- Search index: derived from the current version of each resource at write time, rebuilt on each write.
-- The value indexes INCLUDE res_pk so that a search reads its matches from the index alone.
CREATE TABLE sp_string (
  res_pk   bigint NOT NULL,
  res_type text   NOT NULL,
  param    text   NOT NULL,
  norm     text   NOT NULL,
  exact    text   NOT NULL
);
CREATE INDEX sp_string_ix ON sp_string (res_type, param, norm text_pattern_ops) INCLUDE (res_pk);
CREATE INDEX sp_string_pk_ix ON sp_string (res_pk);

CREATE TABLE sp_token (
  res_pk   bigint NOT NULL,
  res_type text   NOT NULL,
  param    text   NOT NULL,
  system   text,
  code     text,
  display  text
);
CREATE INDEX sp_token_ix ON sp_token (res_type, param, code, system) INCLUDE (res_pk);
CREATE INDEX sp_token_pk_ix ON sp_token (res_pk);

CREATE TABLE sp_date (
  res_pk   bigint      NOT NULL,
  res_type text        NOT NULL,
  param    text        NOT NULL,
  lo       timestamptz NOT NULL,
  hi       timestamptz NOT NULL
);
CREATE INDEX sp_date_ix ON sp_date (res_type, param, lo, hi) INCLUDE (res_pk);
CREATE INDEX sp_date_pk_ix ON sp_date (res_pk);

CREATE TABLE sp_reference (
  res_pk      bigint NOT NULL,
  res_type    text   NOT NULL,
  param       text   NOT NULL,
  target_type text,
  target_id   text,
  url         text
);
CREATE INDEX sp_reference_ix ON sp_reference (res_type, param, target_id, target_type) INCLUDE (res_pk);
CREATE INDEX sp_reference_target_ix ON sp_reference (target_type, target_id);
CREATE INDEX sp_reference_pk_ix ON sp_reference (res_pk);

CREATE TABLE sp_quantity (
  res_pk   bigint  NOT NULL,
  res_type text    NOT NULL,
  param    text    NOT NULL,
  value    numeric NOT NULL,
  system   text,
  code     text
);
CREATE INDEX sp_quantity_ix ON sp_quantity (res_type, param, value) INCLUDE (res_pk);
CREATE INDEX sp_quantity_pk_ix ON sp_quantity (res_pk);

CREATE TABLE sp_uri (
  res_pk   bigint NOT NULL,
  res_type text   NOT NULL,
  param    text   NOT NULL,
  uri      text   NOT NULL
);
CREATE INDEX sp_uri_ix ON sp_uri (res_type, param, uri) INCLUDE (res_pk);
CREATE INDEX sp_uri_pk_ix ON sp_uri (res_pk);

-- System clients (API callers) until people arrive with the identity capability. Tokens are kept only as
-- SHA-256 hashes: they are 256-bit random values, so a slow password hash adds nothing.
CREATE TABLE system_client (
  client_id      text        PRIMARY KEY,
  name           text        NOT NULL,
  scopes         text        NOT NULL,
  token_sha256   bytea       NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
  created_at     timestamptz NOT NULL,
  created_by     text        NOT NULL,
  revoked_at     timestamptz,
  revoked_by     text,
  revoke_reason  text
);

-- The one-time secret that lets the first administrator enrol (consumed by the identity capability).
CREATE TABLE bootstrap_secret (
  id           integer     PRIMARY KEY CHECK (id = 1),
  secret_sha256 bytea      NOT NULL CHECK (length(secret_sha256) = 32),
  created_at   timestamptz NOT NULL,
  used_at      timestamptz
);

GRANT SELECT, INSERT, UPDATE ON resource TO mamori_app;
GRANT SELECT, INSERT ON resource_version TO mamori_app;
GRANT SELECT, INSERT, DELETE ON sp_string, sp_token, sp_date, sp_reference, sp_quantity, sp_uri TO mamori_app;
GRANT SELECT, INSERT, UPDATE ON system_client TO mamori_app;
GRANT SELECT, INSERT, UPDATE ON bootstrap_secret TO mamori_app;
