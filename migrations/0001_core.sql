-- fpexport core schema: batches of imported files, the orders in them, every
-- submission attempt, every callback, and the append-only event log.

-- One imported file (or ERP read). sha256 lets a re-import of the same bytes be recognised.
CREATE TABLE batches (
    id               bigserial PRIMARY KEY,
    source           text        NOT NULL,              -- file name as the accountant knows it
    sha256           text        NOT NULL DEFAULT '',
    default_kind     text        NOT NULL DEFAULT '',
    imported_at      timestamptz NOT NULL DEFAULT now(),
    rows_total       int         NOT NULL DEFAULT 0,
    orders_new       int         NOT NULL DEFAULT 0,
    orders_changed   int         NOT NULL DEFAULT 0,
    orders_unchanged int         NOT NULL DEFAULT 0,
    rows_rejected    int         NOT NULL DEFAULT 0
);
CREATE INDEX batches_sha256_idx ON batches (sha256) WHERE sha256 <> '';
CREATE INDEX batches_imported_at_idx ON batches (imported_at);

-- One order, identified by its source reference within its kind. order_data is
-- the validated order (mapping.Order) from which each request is built at send
-- time; fingerprint tells an unchanged re-import from a changed one.
CREATE TABLE orders (
    id                   bigserial PRIMARY KEY,
    kind                 text        NOT NULL,
    order_ref            text        NOT NULL,
    -- Batch of the current version. Not a foreign key on purpose: the
    -- per-row RI check made COPYing a large import ~25 % slower (issue 3's
    -- speed bound), and the batch row is always written first, in the same
    -- transaction, and batches are never deleted.
    batch_id             bigint      NOT NULL,
    source               text        NOT NULL,
    source_row           int         NOT NULL,
    customer_name        text        NOT NULL,
    grand_total_ore      bigint      NOT NULL,
    -- json, not jsonb: it is only ever read whole by the worker, and
    -- jsonb's parse-and-convert on insert made COPY ~25 % slower.
    order_data           json        NOT NULL,
    fingerprint          text        NOT NULL,
    version              int         NOT NULL DEFAULT 1,
    status               text        NOT NULL DEFAULT 'queued',
    status_at            timestamptz NOT NULL DEFAULT now(),
    fp_status            text,                 -- FP's last status as FP wrote it
    fp_status_created_at bigint,               -- createdAt (unix s) of the callback that set it
    fp_status_callback_id bigint,              -- and its id: ties on createdAt go by arrival order
    fp_order_uuid        text,
    fp_customer_uuid     text,
    payment_url          text,
    bank_id_url          text,
    submitted_at         timestamptz,
    attempts             int         NOT NULL DEFAULT 0,
    last_error           text,
    review_reason        text,
    possible_duplicate   text,                 -- another FP orderUuid seen for this order
    imported_at          timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, order_ref)
);
CREATE INDEX orders_batch_id_idx ON orders (batch_id);
CREATE INDEX orders_fp_order_uuid_idx ON orders (fp_order_uuid) WHERE fp_order_uuid IS NOT NULL;
-- Orders still waiting for something (the worker's and the demo's checks);
-- settled orders, the great majority, stay out of this index.
CREATE INDEX orders_open_idx ON orders (status) WHERE status IN ('queued', 'submitting', 'submitted', 'needs_review');

-- Rows an importer refused, with the reason and the raw cells so an error
-- file can be written back.
CREATE TABLE rejected_rows (
    id          bigserial PRIMARY KEY,
    batch_id    bigint NOT NULL REFERENCES batches (id),
    source      text   NOT NULL,
    row_no      int    NOT NULL,
    column_name text   NOT NULL DEFAULT '',
    value       text   NOT NULL DEFAULT '',
    reason      text   NOT NULL
);
CREATE INDEX rejected_rows_batch_id_idx ON rejected_rows (batch_id);

-- One row per request to FP, written and committed BEFORE the request goes
-- out. An attempt whose outcome is still NULL when a job runs again means a
-- request may have reached FP without us learning the answer.
CREATE TABLE submit_attempts (
    id          bigserial PRIMARY KEY,
    order_id    bigint      NOT NULL REFERENCES orders (id),
    attempt     int         NOT NULL,
    version     int         NOT NULL,
    job_id      bigint      NOT NULL,
    job_attempt int         NOT NULL,
    fpgo_uuid   text,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome     text,        -- created | rejected | retryable | ambiguous | auth | abandoned | superseded | not_sent
    http_status int,
    message     text,
    UNIQUE (order_id, attempt)
);
CREATE INDEX submit_attempts_open_idx ON submit_attempts (order_id) WHERE outcome IS NULL;

-- Every callback as it arrived, trusted or not.
CREATE TABLE callbacks (
    id            bigserial PRIMARY KEY,
    received_at   timestamptz NOT NULL DEFAULT now(),
    remote_addr   text        NOT NULL DEFAULT '',
    raw_query     text        NOT NULL,
    order_id      bigint REFERENCES orders (id),
    fp_order_uuid text        NOT NULL DEFAULT '',
    fp_status     text        NOT NULL DEFAULT '',
    created_at    text        NOT NULL DEFAULT '',
    verdict       text        NOT NULL,  -- accepted | bad_token | bad_checksum | malformed
    result        text                   -- what the callback job did with it
);
CREATE INDEX callbacks_order_id_idx ON callbacks (order_id);

-- Append-only history of each order: imports, attempts, status moves, callbacks.
CREATE TABLE order_events (
    id       bigserial PRIMARY KEY,
    order_id bigint      NOT NULL REFERENCES orders (id),
    at       timestamptz NOT NULL DEFAULT now(),
    type     text        NOT NULL,
    status   text,
    attempt  int,
    detail   jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX order_events_order_id_idx ON order_events (order_id);

-- Reconciliation: one row per order with what finance needs. The report (XLSX,
-- CSV, JSON, HTTP) is read from this view, so all of them agree.
CREATE VIEW reconciliation_orders AS
SELECT o.id                                             AS order_id,
       o.batch_id,
       o.source,
       o.source_row,
       o.order_ref,
       o.kind,
       o.customer_name,
       round(o.grand_total_ore / 100.0, 2)::numeric(14, 2) AS grand_total,
       o.grand_total_ore,
       o.fp_order_uuid,
       o.status,
       o.fp_status,
       o.status_at,
       o.imported_at,
       (o.imported_at AT TIME ZONE 'Europe/Oslo')::date AS imported_on,
       o.submitted_at,
       o.attempts,
       o.last_error,
       o.payment_url,
       CASE
           WHEN o.possible_duplicate IS NOT NULL THEN 'possible_duplicate'
           WHEN o.status IN ('needs_review', 'provider_rejected', 'failed', 'payment_failed') THEN o.status
           ELSE NULL
       END                                              AS exception
FROM orders o;
