-- Signed checkpoints of the audit trail and the interior hashes that proofs are built from (AUDIT-3).
-- Both tables only grow: triggers refuse UPDATE, DELETE and TRUNCATE for every role, as on audit_entry.

-- One row per signed checkpoint. note is the C2SP signed note exactly as signed (origin, size, root, time);
-- frontier is the compact range of the tree at this size (popcount(size) 32-byte hashes, lowest leaves first,
-- concatenated), so a restart continues the tree without rehashing the entries. The signing key is never here:
-- it stays in the data folder's secrets, out of reach of the database credentials.
CREATE TABLE audit_checkpoint (
  size          bigint      PRIMARY KEY CHECK (size >= 0),
  root          bytea       NOT NULL CHECK (length(root) = 32),
  signed_at     timestamptz NOT NULL,
  note          text        NOT NULL,
  frontier      bytea       NOT NULL CHECK (length(frontier) % 32 = 0),
  tsa_status    text        NOT NULL CHECK (tsa_status IN ('none', 'ok', 'failed')),
  tsa_token     bytea,
  tsa_error     text,
  anchor_status text        NOT NULL CHECK (anchor_status IN ('ok', 'failed')),
  anchor_error  text
);
CREATE TRIGGER audit_checkpoint_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoint
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

-- Perfect-subtree hashes at levels 8, 16, 24, ... (blocks of 256, 65,536, ... leaves): the hash of leaves
-- [idx * 2^level, (idx + 1) * 2^level). With the leaf hashes in audit_entry, any subtree hash an inclusion or
-- consistency proof needs costs at most 255 row reads per level band instead of reading every leaf.
CREATE TABLE audit_subtree (
  level  smallint NOT NULL CHECK (level > 0 AND level % 8 = 0),
  idx    bigint   NOT NULL CHECK (idx >= 0),
  hash   bytea    NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
);
CREATE TRIGGER audit_subtree_no_update_delete BEFORE UPDATE OR DELETE ON audit_subtree
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER audit_subtree_no_truncate BEFORE TRUNCATE ON audit_subtree
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();

GRANT SELECT, INSERT ON audit_checkpoint, audit_subtree TO mamori_app;
