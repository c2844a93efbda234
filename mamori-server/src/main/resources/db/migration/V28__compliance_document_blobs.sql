-- The encrypted bytes of the compliance documents (issue 20), in the database beside their records (V26) rather than in
-- one node's data folder: every process on the database serves them (ADR 0013), a failover to the standby keeps them,
-- and the database's backup (pgBackRest, the built-in base backup) carries them (BACKUP-7). Owned by the
-- compliance capability.
--  * compliance_document_blob: content-addressed by the SHA-256 of the plaintext; the AES-256-GCM ciphertext, sealed
--    under the installation's key in <data>/secrets (never in the database) with the SHA-256 as associated data, so a
--    copy of the database alone does not reveal a document and a ciphertext moved under another key does not open.
--    Written in the same transaction as the version row that first names it; the same bytes are kept once (the
--    writer inserts ON CONFLICT DO NOTHING). Rows are only ever added: a withdrawn document's bytes stay evidence.
CREATE TABLE compliance_document_blob (
  sha256      text        PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  ciphertext  bytea       NOT NULL CHECK (octet_length(ciphertext) BETWEEN 1 AND 10486784),
  size_bytes  bigint      NOT NULL CHECK (size_bytes BETWEEN 1 AND 10485760),
  created_at  timestamptz NOT NULL
);

CREATE TRIGGER compliance_document_blob_no_update_delete BEFORE UPDATE OR DELETE ON compliance_document_blob
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER compliance_document_blob_no_truncate BEFORE TRUNCATE ON compliance_document_blob
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
GRANT SELECT, INSERT ON compliance_document_blob TO mamori_app;

-- No version without its bytes: the writer stores the ciphertext first, in the same transaction. NOT VALID: rows
-- written before this migration (development databases only; no release kept files) are not checked.
ALTER TABLE compliance_document ADD CONSTRAINT compliance_document_bytes FOREIGN KEY (sha256)
  REFERENCES compliance_document_blob (sha256) NOT VALID;
