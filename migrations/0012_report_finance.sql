-- The reconciliation report finance signs (issue 14): what FP reported
-- about payment, each order's dates and VAT, open rejected rows.

-- FP's word on payment as it arrived, stored when the word is applied
-- (internal/orders): the time FP gave for the payment (its createdAt) and
-- the amount its callback carried, when it carried one. NULL: FP has not
-- said.
ALTER TABLE orders
    ADD COLUMN paid_at             timestamptz,
    ADD COLUMN paid_amount_ore     bigint,
    ADD COLUMN refunded_at         timestamptz,
    ADD COLUMN refunded_amount_ore bigint;

-- Orders paid before this migration: their paid time is the createdAt of
-- FP's latest word when that word is what made them paid. Amounts were not
-- kept, so they stay NULL.
UPDATE orders SET paid_at = to_timestamp(fp_status_created_at)
WHERE status IN ('paid', 'partially_refunded', 'refunded') AND fp_status_created_at IS NOT NULL
    AND upper(fp_status) IN ('PAID', 'CAPTURED', 'CHARGED');

-- order_line_totals is mapping.OrderLine.Totals in SQL, the one place the
-- report computes a line's amounts: gross = quantity × rate (the rate is
-- VAT-inclusive) rounded half away from zero to the øre, net = gross without
-- VAT likewise rounded, VAT = gross − net, amount = gross − discount (what
-- the customer pays for the line). A test in internal/store holds the two to
-- the same answers.
--
-- It takes jsonb: the view parses an order's json once into jsonb and reads
-- every field from that (each -> on json parses the whole text again).
CREATE FUNCTION order_line_totals(lines jsonb)
    RETURNS TABLE (line_no int, tax_percent int, gross_ore bigint, net_ore bigint, vat_ore bigint,
                   discount_ore bigint, amount_ore bigint)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT l.n::int, g.tax, g.gross, n.net, g.gross - n.net, g.discount, g.gross - g.discount
    FROM jsonb_array_elements(coalesce(lines, '[]')) WITH ORDINALITY AS l(line, n),
         LATERAL (SELECT coalesce((l.line ->> 'tax_percent')::int, 0) AS tax,
                         round((l.line ->> 'quantity')::numeric * (l.line ->> 'rate')::numeric * 100)::bigint AS gross,
                         round(coalesce((l.line ->> 'discount')::numeric, 0) * 100)::bigint AS discount) g,
         LATERAL (SELECT round(g.gross * 100::numeric / (100 + g.tax))::bigint AS net) n
$$;

-- rejected_row_open says whether a rejected row still needs the
-- accountant: the one place the report decides it. Every rejected row is
-- open for now; a later migration may close those a later import fixed.
CREATE FUNCTION rejected_row_open(r rejected_rows) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN true;

-- As in 0010, with finance's columns added at the end: the order's date and
-- due date, its net, VAT and discount from its lines, and what FP reported
-- about payment and refund. vat_lines is its lines' rate, net, VAT,
-- discount and amount in øre ("25 12012 3003 500 14515,12 …"), so that the
-- report sums the VAT table in the same pass as the orders instead of
-- reading every order a second time.
--
-- order_date: the order's own, else the day it was sent (Europe/Oslo).
-- due_date: the order's own, else order date + its payment term in days
-- (14 when none, for payment links and hosted checkout; an invoice without
-- one gets FP's default maturity, which FP does not tell us: NULL).
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
       mask_personal_number(j.d -> 'customer' ->> 'personal_number') AS personal_number,
       d.order_date,
       CASE
           WHEN d.due ~ '^\d{4}-\d{2}-\d{2}$' THEN d.due::date
           WHEN o.kind IN ('payment-link', 'hosted-checkout')
               THEN d.order_date + coalesce((j.d ->> 'due_days')::int, 14)
           WHEN o.kind = 'invoice' THEN d.order_date + (j.d ->> 'due_days')::int
       END                                              AS due_date,
       t.net_ore,
       t.vat_ore,
       t.discount_ore,
       o.paid_at,
       o.paid_amount_ore,
       o.refunded_at,
       o.refunded_amount_ore,
       t.vat_lines
FROM orders o
    -- OFFSET 0 keeps the planner from pulling the subquery up, which would
    -- put the cast (a parse of the whole order) at every use of j.d.
    CROSS JOIN LATERAL (SELECT o.order_data::jsonb AS d OFFSET 0) j
    CROSS JOIN LATERAL (SELECT CASE
                                   WHEN j.d ->> 'order_date' ~ '^\d{4}-\d{2}-\d{2}$'
                                       THEN (j.d ->> 'order_date')::date
                                   ELSE (o.submitted_at AT TIME ZONE 'Europe/Oslo')::date
                               END                      AS order_date,
                               j.d ->> 'due_date' AS due) d
    CROSS JOIN LATERAL (SELECT coalesce(sum(l.net_ore), 0)::bigint      AS net_ore,
                               coalesce(sum(l.vat_ore), 0)::bigint      AS vat_ore,
                               coalesce(sum(l.discount_ore), 0)::bigint AS discount_ore,
                               coalesce(string_agg(concat_ws(' ', l.tax_percent, l.net_ore, l.vat_ore, l.discount_ore, l.amount_ore),
                                                   ',' ORDER BY l.line_no), '') AS vat_lines
                        FROM order_line_totals(j.d -> 'lines') l) t;

-- One row per order line, with the line's VAT rate and amounts, for the
-- report's VAT table: per rate, the sums of a period's lines tie out to
-- its orders' net, VAT, discount and grand totals.
CREATE VIEW reconciliation_order_lines AS
SELECT o.id                                             AS order_id,
       o.batch_id,
       o.order_ref,
       o.kind,
       (o.imported_at AT TIME ZONE 'Europe/Oslo')::date AS imported_on,
       l.line_no,
       l.tax_percent,
       l.gross_ore,
       l.net_ore,
       l.vat_ore,
       l.discount_ore,
       l.amount_ore
FROM orders o
    CROSS JOIN LATERAL order_line_totals((o.order_data -> 'lines')::jsonb) l;
