-- Reconciliation reports the worker wrote on REPORT_SCHEDULE (jobs.ReportWorker);
-- `worker report --list` shows them.
--
-- One row per file: the file name is derived from the period and the format
-- (reconciliation-YYYY-MM-DD.<format>), so a re-run of the same day (a
-- retried job, a second slot for the same day, a run by hand of the job)
-- overwrites the file and must update its row, not add one. Hence the
-- unique key on (period_from, period_to, format) and an upsert; job_id is the
-- River job that wrote the current file.
CREATE TABLE reports (
    id           bigserial PRIMARY KEY,
    period_from  date        NOT NULL,
    period_to    date        NOT NULL,
    format       text        NOT NULL CHECK (format IN ('xlsx', 'csv', 'json')),
    path         text        NOT NULL,
    bytes        bigint      NOT NULL,
    sha256       text        NOT NULL,
    orders       int         NOT NULL,
    generated_at timestamptz NOT NULL,
    job_id       bigint,
    UNIQUE (period_from, period_to, format)
);
