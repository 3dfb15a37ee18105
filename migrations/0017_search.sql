-- A search index kept off the import's path (issue 13). A trigram index on
-- orders itself made every CSV import about 35 % slower (each new order
-- entered it in the import's transaction); migration 0014 left it out.
-- Here the searchable text of each order lives in a table of its own that
-- a periodic job (store.IndexSearch) fills after the import committed, one
-- batch at a time: the import writes nothing more than before.
--
-- pg_trgm is a trusted extension in postgresql-contrib: a database owner
-- without superuser rights may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One row per order: the lowercased reference, customer name and e-mail
-- address of the order's version that was indexed. Only a hint: a search
-- checks every match against the order's current values.
CREATE TABLE order_search (
    order_id bigint PRIMARY KEY,
    version  int    NOT NULL,
    text     text   NOT NULL
);
CREATE INDEX order_search_text_idx ON order_search USING gin (text gin_trgm_ops);
-- How many orders share a text the planner reads from this column's
-- statistics (a walk of the newest orders for "hansen", the trigram index
-- for a rare name); a finer histogram tells the two apart.
ALTER TABLE order_search ALTER COLUMN text SET STATISTICS 1000;

-- The batches whose orders are in order_search. An import writes a new
-- order, and a changed one, with its batch's id; a batch not listed here
-- is the tail a search reads from orders directly (orders_batch_id_idx).
-- A list rather than a highest id: a batch with a lower id may commit
-- after one with a higher id.
CREATE TABLE order_search_batches (
    batch_id   bigint      PRIMARY KEY,
    indexed_at timestamptz NOT NULL DEFAULT now()
);
