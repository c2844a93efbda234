-- Vendor notices (issue 19; VULN-2, VULN-3): a vendor's push notice of a vulnerability or an end of support that
-- affects a component, with the workaround and the patch schedule, acknowledged and tracked to closure by the
-- institution. Owned by the maintenance capability (jp.mamori.maintenance.VendorNotices).
--  * maintenance_notice: one row per notice, numbered within its year in Japan time (2026-1, 2026-2, ...). What the
--    vendor said is kept as said: never updated.
--  * maintenance_notice_step: the notice's status history, one row per step: posted, acknowledged (once), in progress
--    (a plan; a later plan is a further row), closed (once: patched / workaround in place / not affected, with the
--    date). The current status is the newest step. Both append-only; each row is also an audit entry written in the
--    same transaction.
CREATE TABLE maintenance_notice (
  notice_id      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  year           integer     NOT NULL CHECK (year BETWEEN 2000 AND 2200),
  number         integer     NOT NULL CHECK (number >= 1),
  vendor_name    text        NOT NULL CHECK (length(vendor_name) BETWEEN 1 AND 200),
  kind           text        NOT NULL CHECK (kind IN ('vulnerability', 'end_of_support', 'other')),
  component      text        NOT NULL CHECK (length(component) BETWEEN 1 AND 200),
  component_id   text        CHECK (component_id IS NULL OR length(component_id) BETWEEN 1 AND 300),
  severity       text        NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
  summary        text        NOT NULL CHECK (length(summary) BETWEEN 1 AND 4000),
  workaround     text        CHECK (workaround IS NULL OR length(workaround) <= 4000),
  patch_on       date,
  refs           text        CHECK (refs IS NULL OR length(refs) <= 4000),
  posted_by      text        NOT NULL CHECK (length(posted_by) BETWEEN 1 AND 200),
  posted_by_name text        NOT NULL CHECK (length(posted_by_name) BETWEEN 1 AND 200),
  by_vendor      boolean     NOT NULL,
  posted_at      timestamptz NOT NULL,
  UNIQUE (year, number)
);
CREATE TABLE maintenance_notice_step (
  seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  notice_id  bigint      NOT NULL REFERENCES maintenance_notice (notice_id),
  step       text        NOT NULL CHECK (step IN ('posted', 'acknowledged', 'in_progress', 'closed')),
  note       text        CHECK (note IS NULL OR length(note) <= 4000),
  closure    text        CHECK (closure IS NULL OR closure IN ('patched', 'workaround', 'not_affected')),
  closed_on  date,
  by_who     text        NOT NULL CHECK (length(by_who) BETWEEN 1 AND 200),
  by_name    text        NOT NULL CHECK (length(by_name) BETWEEN 1 AND 200),
  at         timestamptz NOT NULL,
  CHECK ((step = 'closed') = (closure IS NOT NULL AND closed_on IS NOT NULL)),
  CHECK (step <> 'in_progress' OR note IS NOT NULL)
);
-- posted, acknowledged and closed happen once per notice; plans may follow one another
CREATE UNIQUE INDEX maintenance_notice_step_once ON maintenance_notice_step (notice_id, step)
  WHERE step <> 'in_progress';
CREATE INDEX maintenance_notice_step_notice ON maintenance_notice_step (notice_id, seq DESC);
CREATE TRIGGER maintenance_notice_no_update_delete BEFORE UPDATE OR DELETE ON maintenance_notice
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER maintenance_notice_no_truncate BEFORE TRUNCATE ON maintenance_notice
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER maintenance_notice_step_no_update_delete BEFORE UPDATE OR DELETE ON maintenance_notice_step
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER maintenance_notice_step_no_truncate BEFORE TRUNCATE ON maintenance_notice_step
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
GRANT SELECT, INSERT ON maintenance_notice, maintenance_notice_step TO mamori_app;
