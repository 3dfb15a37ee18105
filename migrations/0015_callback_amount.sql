-- The amount FP's callback carried, as FP wrote it ('' none, or not an
-- amount). The callback handler reads it from the same parameters as
-- orderUuid, status and createdAt, whether they came in the query, a form
-- body or a JSON body, and stores it only when it is a plain decimal with at
-- most two decimals; the apply job reads this column. Before, the apply job
-- read it from raw_query with a pattern, so one sent in a JSON body was lost.
--
-- A constant default: adding the column rewrites no row.
ALTER TABLE callbacks ADD COLUMN amount text NOT NULL DEFAULT '';

-- Callbacks stored before: the amount as it was read until now, by the same
-- pattern on raw_query (the apply job still checks it is an amount).
UPDATE callbacks
SET amount = substring(raw_query from '(?:^|&)amount=([0-9.-]{1,24})(?:&|$)')
WHERE raw_query ~ '(?:^|&)amount=[0-9.-]{1,24}(?:&|$)';
