-- A person's actions (issue 13): cancel, resend, withdraw.
--
-- A withdrawn payment link is not past due: nothing was sent. The index
-- behind the list of overdue payment links leaves it out, as the list does.
DROP INDEX orders_payment_link_due_idx;
CREATE INDEX orders_payment_link_due_idx ON orders (order_due_date(order_data), id)
    WHERE kind = 'payment-link' AND status NOT IN ('paid', 'partially_refunded', 'refunded', 'cancelled', 'withdrawn');

-- Cancels and resends whose answer was lost: a person decides whether to
-- repeat them (`worker attention`). Few, so the list reads them all.
CREATE INDEX order_events_action_unanswered_idx ON order_events (at, id)
    WHERE type IN ('cancel', 'resend') AND detail ->> 'outcome' = 'ambiguous';
