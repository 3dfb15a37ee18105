-- Imports that are not files: how far each source has been read.
--
-- The ERP reader keeps here the highest value of its watermark column (for
-- example updated_at, or an id) it has imported, as text in PostgreSQL's
-- input syntax, and passes it to its query as $1 on the next run. The row is
-- written in the same transaction as the batch it belongs to, so the rows of
-- a run and its watermark are recorded together or not at all.
CREATE TABLE import_watermarks (
    source     text PRIMARY KEY,                 -- "erp:<host>/<database>"
    value      text        NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
