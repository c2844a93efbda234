-- SS-MIX2 import (issue 23; STORE-2): the ledger that makes an import idempotent. Owned by the interchange capability
-- (jp.mamori.ssmix2). One row per message imported, written in the same transaction as the message's resources, so a
-- message is either imported with its row or not at all. Keyed by the SHA-256 of the file's bytes: the same message,
-- wherever it lies, is imported once; a changed file is a new message (its resources, whose ids are derived from the
-- patient ID and order number, get a new version). Append-only (triggers refuse UPDATE, DELETE, TRUNCATE).
CREATE TABLE ssmix2_import (
  seq            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  content_sha256 bytea       NOT NULL UNIQUE CHECK (length(content_sha256) = 32),
  file_path      text        NOT NULL CHECK (length(file_path) BETWEEN 1 AND 1000),
  data_type      text        NOT NULL CHECK (length(data_type) BETWEEN 1 AND 20),
  control_id     text        CHECK (control_id IS NULL OR length(control_id) <= 200),
  resources      integer     NOT NULL CHECK (resources >= 0),
  run_id         uuid        NOT NULL,
  imported_at    timestamptz NOT NULL
);
CREATE TRIGGER ssmix2_import_no_update_delete BEFORE UPDATE OR DELETE ON ssmix2_import
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER ssmix2_import_no_truncate BEFORE TRUNCATE ON ssmix2_import
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
GRANT SELECT, INSERT ON ssmix2_import TO mamori_app;
