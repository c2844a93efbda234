-- The record store under the signed audit trail (issue 17; STORE-1, AUDIT-3). Since this version every write's entry
-- names each version with its hashes; the versions stored before it are named once, at the first start after the
-- upgrade, by 'records.anchor' entries. This index finds whether that was done without reading the trail.
-- Owned by the audit capability.
CREATE INDEX audit_entry_records_anchor_ix ON audit_entry (seq) WHERE action = 'records.anchor';
