-- The downtime kit (issue 18 §3; BACKUP-12, DEGRADED-4). Owned by the continuity capability.
--  * downtime_kit: one row per ward or department that has a kit password. The password is held by the ward's
--    leader; the server stores it only sealed (AES-256-GCM under a key file outside the database, bound to the place's
--    name), so that it can encrypt the ward's PDF and a copy of the database alone does not reveal it. The last
--    generation's time, file and patient count are what the console shows (stale when older than twice the interval).
CREATE TABLE downtime_kit (
  place           text        PRIMARY KEY CHECK (length(place) BETWEEN 1 AND 100),
  sealed_password bytea       NOT NULL CHECK (length(sealed_password) BETWEEN 16 AND 1024),
  password_set_by text        NOT NULL,
  password_set_at timestamptz NOT NULL,
  last_at         timestamptz,
  last_file       text,
  last_patients   integer,
  last_problem    text
);
GRANT SELECT, INSERT, UPDATE, DELETE ON downtime_kit TO mamori_app;
