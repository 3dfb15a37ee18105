-- callbacks.verdict (0001) may now also be 'orphan': token and checksum
-- check out, but the order is not in this database (store.VerdictOrphan).

-- The reconciliation report at a million orders: masked personal numbers in
-- the view, and the indexes its queries (and the status re-poll's) use.

-- mask_personal_number is pii.MaskPersonalNumber in SQL, so the view never
-- shows the five personal digits: "01019012345" → "010190*****"; anything
-- not 11 bytes long is hidden whole; none stays ''. A test in
-- internal/store holds the two to the same answers.
CREATE FUNCTION mask_personal_number(pn text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN pn IS NULL OR pn = '' THEN ''
        WHEN octet_length(pn) = 11 THEN left(pn, 6) || '*****'
        ELSE '***********'
    END;

-- As in 0001, with the customer's masked personal number added at the end
-- (CREATE OR REPLACE VIEW may only add columns there).
CREATE OR REPLACE VIEW reconciliation_orders AS
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
       END                                              AS exception,
       mask_personal_number(o.order_data -> 'customer' ->> 'personal_number') AS personal_number
FROM orders o;

-- The report's orders: one period (imported_on) in report order, read
-- straight from the index without a sort.
CREATE INDEX orders_imported_on_idx ON orders (((imported_at AT TIME ZONE 'Europe/Oslo')::date), batch_id, source_row, id);

-- Untrusted and orphan callbacks of a period; accepted ones, nearly all,
-- stay out.
CREATE INDEX callbacks_untrusted_received_at_idx ON callbacks (received_at) WHERE verdict <> 'accepted';

-- Payment links that may be overdue: not paid, refunded or cancelled.
CREATE INDEX orders_open_payment_links_idx ON orders (id)
    WHERE kind = 'payment-link' AND status NOT IN ('paid', 'partially_refunded', 'refunded', 'cancelled');

-- Orders at FP that still await its word (no_callback): submitted, neither
-- final nor back with their submit job.
CREATE INDEX orders_awaiting_fp_idx ON orders (submitted_at)
    WHERE submitted_at IS NOT NULL
        AND status NOT IN ('paid', 'partially_refunded', 'refunded', 'cancelled', 'expired', 'provider_rejected',
                           'failed', 'queued', 'submitting');

-- The status re-poll (store.RepollCandidates): orders FP has, by status, and
-- when FP last spoke of each (callback or unanswered poll events).
CREATE INDEX orders_repoll_idx ON orders (status, status_at) WHERE fp_order_uuid IS NOT NULL;
CREATE INDEX order_events_heard_idx ON order_events (order_id, at) WHERE type IN ('callback', 'repoll_not_found');
