-- Vendor maintenance, after the work (issue 19; MAINT-3, MAINT-4, MAINT-5, MAINT-9, MAINT-13): a job ended at once by
-- the institution, and the work report (作業報告) of each approved job. Owned by the maintenance capability
-- (jp.mamori.maintenance.WorkOrders, WorkReports). Append-only like V29 and V30: no row is ever changed or deleted,
-- and each insert is also an audit entry written in the same transaction.
--  * maintenance_work_order_end: a job ended early by a responsible person ("作業を直ちに終了"), with the reason; from
--    that instant the work order's window is over (at most one per work order).
--  * maintenance_work_report_step: the report's history. 'submitted' is a version of the vendor's part (results,
--    what was done, open issues), numbered per work order; 'returned' sends the newest version back with a reason
--    (差戻し); 'approved' accepts it, once. The generated part (the log) is read from the audit trail, never stored.
CREATE TABLE maintenance_work_order_end (
  seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  work_order bigint      NOT NULL UNIQUE REFERENCES maintenance_work_order (seq),
  by_who     text        NOT NULL CHECK (length(by_who) BETWEEN 1 AND 200),
  by_name    text        NOT NULL CHECK (length(by_name) BETWEEN 1 AND 200),
  at         timestamptz NOT NULL,
  reason     text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000)
);

CREATE TABLE maintenance_work_report_step (
  seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  work_order  bigint      NOT NULL REFERENCES maintenance_work_order (seq),
  step        text        NOT NULL CHECK (step IN ('submitted', 'returned', 'approved')),
  version     integer     NOT NULL CHECK (version >= 1),
  results     text        CHECK (results IS NULL OR length(results) BETWEEN 1 AND 4000),
  done        text        CHECK (done IS NULL OR length(done) BETWEEN 1 AND 4000),
  open_issues text        CHECK (open_issues IS NULL OR length(open_issues) BETWEEN 1 AND 4000),
  reason      text        CHECK (reason IS NULL OR length(reason) BETWEEN 1 AND 1000),
  by_account  uuid        NOT NULL,
  by_name     text        NOT NULL CHECK (length(by_name) BETWEEN 1 AND 200),
  at          timestamptz NOT NULL,
  CHECK ((step = 'submitted') = (results IS NOT NULL AND done IS NOT NULL AND open_issues IS NOT NULL)),
  CHECK ((step = 'returned') = (reason IS NOT NULL))
);
-- one version number per submission; one approval per work order
CREATE UNIQUE INDEX maintenance_work_report_version ON maintenance_work_report_step (work_order, version)
  WHERE step = 'submitted';
CREATE UNIQUE INDEX maintenance_work_report_approved ON maintenance_work_report_step (work_order)
  WHERE step = 'approved';
CREATE INDEX maintenance_work_report_step_order ON maintenance_work_report_step (work_order, seq);

CREATE TRIGGER maintenance_work_order_end_no_update_delete BEFORE UPDATE OR DELETE ON maintenance_work_order_end
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER maintenance_work_order_end_no_truncate BEFORE TRUNCATE ON maintenance_work_order_end
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER maintenance_work_report_step_no_update_delete BEFORE UPDATE OR DELETE ON maintenance_work_report_step
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER maintenance_work_report_step_no_truncate BEFORE TRUNCATE ON maintenance_work_report_step
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
GRANT SELECT, INSERT ON maintenance_work_order_end, maintenance_work_report_step TO mamori_app;
