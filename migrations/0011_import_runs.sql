-- The last finished run of each import source (an inbox folder, an ERP
-- table), whether or not it found anything to import: a night without new
-- files leaves no batch, yet the import ran. /metrics exposes the newest as
-- fpexport_last_import_timestamp_seconds, so an alert can tell an import
-- that has stopped running (the timer, cron or the worker's schedule gone)
-- from a quiet night.
CREATE TABLE import_runs (
    source      text PRIMARY KEY,            -- "inbox:/srv/inbox", "erp:<host>/<database>"
    finished_at timestamptz NOT NULL DEFAULT now()
);
