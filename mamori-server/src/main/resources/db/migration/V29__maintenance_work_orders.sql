-- Vendor maintenance (issue 19; MAINT-1 … MAINT-3, ACCT-3, ACCESS-6): the vendors as data and the work requests
-- (作業申請) approved in advance. Owned by the maintenance capability (jp.mamori.maintenance). Append-only like V25:
-- no row is ever changed or deleted, and each insert is also an audit entry written in the same transaction.
--  * maintenance_vendor_version: every version of every vendor (kind 'vendor': company, contract number and period,
--    responsible person, contacts, subcontractors with the institution's consent date), of each of its staff (kind
--    'staff': a link to an individual vendor account of the account ledger, which stays authoritative), of its
--    remote-maintenance routes and devices (kind 'route': source addresses as CIDR, what they reach) and of the
--    responsibility split per system component (kind 'component'). A row is numbered within its kind; its current
--    state is its newest version; retiring is a version with retired = true.
--  * maintenance_work_order: a work request as filed, numbered per year (作業番号 2026-0001); never changed.
--  * maintenance_work_order_decision: each approval or refusal; one per person and request (two distinct approvers
--    when patient data is seen or taken out, MAINT-2).
CREATE TABLE maintenance_vendor_version (
  seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind        text        NOT NULL CHECK (kind IN ('vendor', 'staff', 'route', 'component')),
  entry       integer     NOT NULL CHECK (entry >= 1),
  version     integer     NOT NULL CHECK (version >= 1),
  vendor      integer     NOT NULL CHECK (vendor >= 1),
  fields      jsonb       NOT NULL CHECK (jsonb_typeof(fields) = 'object' AND octet_length(fields::text) <= 65536),
  retired     boolean     NOT NULL DEFAULT false,
  author      text        NOT NULL CHECK (length(author) BETWEEN 1 AND 200),
  author_name text        NOT NULL CHECK (length(author_name) BETWEEN 1 AND 200),
  at          timestamptz NOT NULL,
  reason      text        CHECK (reason IS NULL OR length(reason) <= 1000),
  CHECK (NOT retired OR reason IS NOT NULL),
  UNIQUE (kind, entry, version)
);
CREATE INDEX maintenance_vendor_version_current ON maintenance_vendor_version (kind, entry, version DESC);

CREATE TABLE maintenance_work_order (
  seq            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  year           integer     NOT NULL CHECK (year BETWEEN 2000 AND 9999),
  number         integer     NOT NULL CHECK (number BETWEEN 1 AND 9999),
  vendor         integer     NOT NULL CHECK (vendor >= 1),
  staff          uuid[]      NOT NULL CHECK (cardinality(staff) BETWEEN 1 AND 20),
  systems        text        NOT NULL CHECK (length(systems) BETWEEN 1 AND 2000),
  purpose        text        NOT NULL CHECK (length(purpose) BETWEEN 1 AND 2000),
  patient_data   boolean     NOT NULL,
  export_data    boolean     NOT NULL,
  data_reason    text        CHECK (data_reason IS NULL OR length(data_reason) <= 2000),
  window_start   timestamptz NOT NULL,
  window_end     timestamptz NOT NULL,
  source         cidr        NOT NULL,
  route          integer     NOT NULL CHECK (route >= 1),
  requester      uuid        NOT NULL,
  requester_name text        NOT NULL CHECK (length(requester_name) BETWEEN 1 AND 200),
  filed_at       timestamptz NOT NULL,
  CHECK (window_end > window_start AND window_end - window_start <= interval '12 hours'),
  CHECK (NOT (patient_data OR export_data) OR data_reason IS NOT NULL),
  UNIQUE (year, number)
);
CREATE INDEX maintenance_work_order_window ON maintenance_work_order (window_end);

CREATE TABLE maintenance_work_order_decision (
  seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  work_order bigint      NOT NULL REFERENCES maintenance_work_order (seq),
  decision   text        NOT NULL CHECK (decision IN ('approve', 'refuse')),
  by_account uuid        NOT NULL,
  by_name    text        NOT NULL CHECK (length(by_name) BETWEEN 1 AND 200),
  at         timestamptz NOT NULL,
  reason     text        CHECK (reason IS NULL OR length(reason) <= 1000),
  CHECK (decision = 'approve' OR reason IS NOT NULL),
  UNIQUE (work_order, by_account)
);

CREATE TRIGGER maintenance_vendor_version_no_update_delete BEFORE UPDATE OR DELETE ON maintenance_vendor_version
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER maintenance_vendor_version_no_truncate BEFORE TRUNCATE ON maintenance_vendor_version
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER maintenance_work_order_no_update_delete BEFORE UPDATE OR DELETE ON maintenance_work_order
  FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER maintenance_work_order_no_truncate BEFORE TRUNCATE ON maintenance_work_order
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER maintenance_work_order_decision_no_update_delete BEFORE UPDATE OR DELETE
  ON maintenance_work_order_decision FOR EACH ROW EXECUTE FUNCTION mamori_refuse_change();
CREATE TRIGGER maintenance_work_order_decision_no_truncate BEFORE TRUNCATE ON maintenance_work_order_decision
  FOR EACH STATEMENT EXECUTE FUNCTION mamori_refuse_change();
GRANT SELECT, INSERT ON maintenance_vendor_version, maintenance_work_order, maintenance_work_order_decision
  TO mamori_app;
