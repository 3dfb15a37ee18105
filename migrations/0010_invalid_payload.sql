-- invalid_payload (internal/orderstate): our stored order could not be
-- built into a request, so nothing was sent. It is an exception of its own
-- in the view every report reads (not provider_rejected, which means FP
-- said no), and like provider_rejected it awaits nothing from FP.

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
           WHEN o.status IN ('needs_review', 'provider_rejected', 'invalid_payload', 'failed', 'payment_failed') THEN o.status
           ELSE NULL
       END                                              AS exception,
       mask_personal_number(o.order_data -> 'customer' ->> 'personal_number') AS personal_number
FROM orders o;

DROP INDEX orders_awaiting_fp_idx;
CREATE INDEX orders_awaiting_fp_idx ON orders (submitted_at)
    WHERE submitted_at IS NOT NULL
        AND status NOT IN ('paid', 'partially_refunded', 'refunded', 'cancelled', 'expired', 'provider_rejected',
                           'failed', 'queued', 'submitting', 'invalid_payload');
