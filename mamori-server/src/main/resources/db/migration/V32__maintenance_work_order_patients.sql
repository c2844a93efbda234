-- Issue 19: the patients a work order that sees patient data may reach, by the 患者ID the institution uses (the
-- Patient's identifier), at most 20; none for a work order without patient data. Inside its window, a vendor's session
-- of such a work order reads these patients' charts (purpose maintenance) and no other patient's.
ALTER TABLE maintenance_work_order ADD COLUMN patients text[] NOT NULL DEFAULT '{}';
ALTER TABLE maintenance_work_order ADD CONSTRAINT maintenance_work_order_patients_ck
  CHECK (cardinality(patients) <= 20 AND (patient_data OR cardinality(patients) = 0));
