-- What needs a person, and finding an order (issue 13): the indexes behind
-- `worker attention` and `worker orders --search` at a million orders.
--
-- No trigram (pg_trgm) indexes for searching a part of a name, an e-mail
-- address or a reference: every new order would enter them, which put the
-- CSV import over its bound (1.84-2.29 x the floor against 1.3-1.6; see
-- docs/benchmarks.md). A search for a part walks the newest orders instead;
-- an index kept off the import's path is the open follow-up.

-- Orders in a status that waits for a person, each status oldest first;
-- orders FP may hold twice.
CREATE INDEX orders_attention_idx ON orders (status, status_at, id)
    WHERE status IN ('needs_review', 'provider_rejected', 'invalid_payload', 'failed');
CREATE INDEX orders_possible_duplicate_idx ON orders (status_at, id)
    WHERE possible_duplicate IS NOT NULL AND status <> 'cancelled';

-- Orders at FP that FP has given no word on at all (no callback applied, no
-- status poll answered: fp_status is NULL), oldest submission first. The
-- statuses are those of orders_awaiting_fp_idx (migrations 0005, 0010).
CREATE INDEX orders_no_word_idx ON orders (submitted_at, id)
    WHERE submitted_at IS NOT NULL AND fp_status IS NULL
        AND status NOT IN ('paid', 'partially_refunded', 'refunded', 'cancelled', 'expired', 'provider_rejected',
                           'failed', 'queued', 'submitting', 'invalid_payload');

-- order_due_date is a payment link's due date as imported (YYYY-MM-DD), or
-- NULL when there is none (computed at send time) or it is not that shape.
-- It is built with make_date rather than a text-to-date cast, which depends
-- on DateStyle, so that it is IMMUTABLE and can be indexed. It is PL/pgSQL,
-- which is never inlined, so that its COST stands: reading the json of
-- every open payment link costs far more than reading the index below, and
-- the planner must know it.
CREATE FUNCTION order_due_date(order_data json) RETURNS date
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1000
AS $$
DECLARE
    d text := order_data ->> 'due_date';
BEGIN
    IF d ~ '^\d{4}-\d{2}-\d{2}$' THEN
        RETURN make_date(substr(d, 1, 4)::int, substr(d, 6, 2)::int, substr(d, 9, 2)::int);
    END IF;
    RETURN NULL;
END;
$$;

-- Payment links not paid, refunded or cancelled, by due date.
CREATE INDEX orders_payment_link_due_idx ON orders (order_due_date(order_data), id)
    WHERE kind = 'payment-link' AND status NOT IN ('paid', 'partially_refunded', 'refunded', 'cancelled');

-- A search walks the newest orders when many match a text, and asks a
-- trigram index when few do; which is which the planner reads from the
-- statistics of the name, the reference and the e-mail expression (a
-- statistics object: a trigram index keeps none the planner can use for
-- it). A finer histogram (1 000 buckets, not 100) tells a name one order in
-- a thousand has from one in a hundred.
ALTER TABLE orders ALTER COLUMN customer_name SET STATISTICS 1000;
ALTER TABLE orders ALTER COLUMN order_ref SET STATISTICS 1000;
CREATE STATISTICS orders_customer_email_stats ON ((order_data -> 'customer') ->> 'email') FROM orders;
ALTER STATISTICS orders_customer_email_stats SET STATISTICS 1000;
