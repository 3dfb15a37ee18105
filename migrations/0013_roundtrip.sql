-- The accountant's round trip.
--
-- A batch keeps its input's header, delimiter and format, and each rejected
-- row its cells as read, so that the web page gives the error file of a
-- batch imported by enqueue, the inbox or the ERP with the whole rows, in
-- the input's format. A rejected row keeps its reason as a message of the
-- catalogue (msg_id, msg_args, note: internal/msg) to be shown in the
-- reader's language; reason stays its English text.
--
-- A rejected row is open until a later batch brings a valid order for the
-- same kind and reference (order_kind, order_ref): that batch's id goes in
-- resolved_by_batch. rejected_row_open (migration 0012, the report's) is
-- the one predicate that says so; the view open_rejected_rows applies it
-- for the pages and `worker status`, so no two counts disagree.

ALTER TABLE batches
    ADD COLUMN header    text[] NOT NULL DEFAULT '{}',
    ADD COLUMN delimiter text   NOT NULL DEFAULT '',
    ADD COLUMN format    text   NOT NULL DEFAULT '';

ALTER TABLE rejected_rows
    ADD COLUMN header            text   NOT NULL DEFAULT '', -- the file's own name for column_name
    ADD COLUMN msg_id            text   NOT NULL DEFAULT '',
    ADD COLUMN msg_args          text[] NOT NULL DEFAULT '{}',
    ADD COLUMN note              text   NOT NULL DEFAULT '',
    ADD COLUMN cells             text[],                      -- the row as read; NULL: not kept
    ADD COLUMN order_kind        text   NOT NULL DEFAULT '',
    ADD COLUMN order_ref         text   NOT NULL DEFAULT '',
    ADD COLUMN resolved_by_batch bigint REFERENCES batches (id);

CREATE INDEX rejected_rows_open_ref_idx ON rejected_rows (order_kind, order_ref)
    WHERE resolved_by_batch IS NULL AND order_ref <> '';

CREATE OR REPLACE FUNCTION rejected_row_open(r rejected_rows) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN r.resolved_by_batch IS NULL;

CREATE VIEW open_rejected_rows AS
SELECT * FROM rejected_rows r WHERE rejected_row_open(r);
