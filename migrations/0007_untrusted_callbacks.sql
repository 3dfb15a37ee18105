-- Untrusted callbacks are bounded (issue 10, point 4; see docs/untrusted.md).
--
-- A callback is untrusted when its verdict is none of 'accepted', 'orphan'
-- and 'awaiting_fp' (a keyless callback waiting for FP's word; see
-- store.Untrusted): forged, invalid, or refused for any reason a later
-- verdict adds. The receiver stores such callbacks up to a cap per
-- source and hour and in total, and only counts those beyond the cap (or
-- refused with 429 by the per-source rate limit), here, one row per hour,
-- source, verdict and reason, added to every few seconds.
CREATE TABLE untrusted_callback_counts (
    hour    timestamptz NOT NULL, -- start of the hour the callbacks arrived in
    source  text        NOT NULL, -- callback_source(): the address, an IPv6 one as its /64
    verdict text        NOT NULL,
    reason  text        NOT NULL, -- rate_limited | source_cap | total_cap
    count   bigint      NOT NULL,
    PRIMARY KEY (hour, source, verdict, reason)
);

-- callback_source is store.CallbackSource in SQL: an IPv6 address stands for
-- its /64 (one host commonly holds a whole /64), anything else for itself;
-- text that is not an address is kept as it is.
CREATE FUNCTION callback_source(addr text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    a inet;
BEGIN
    BEGIN
        a := addr::inet;
    EXCEPTION WHEN others THEN
        RETURN addr;
    END;
    IF family(a) = 6 THEN
        RETURN network(set_masklen(a, 64))::text;
    END IF;
    RETURN host(a);
END;
$$;

-- The untrusted callbacks of each Europe/Oslo day per source and verdict:
-- stored (rows in callbacks) and counted but not stored. The report reads
-- this view, so the two always agree. Neither raw_query (token, checksum)
-- nor any FP field is shown.
CREATE VIEW reconciliation_untrusted_callbacks AS
SELECT day, source, verdict, sum(stored)::bigint AS stored, sum(not_stored)::bigint AS not_stored,
       min(first_at) AS first_at, max(last_at) AS last_at
FROM (SELECT (c.received_at AT TIME ZONE 'Europe/Oslo')::date AS day, callback_source(c.remote_addr) AS source, c.verdict,
             count(*) AS stored, 0 AS not_stored, min(c.received_at) AS first_at, max(c.received_at) AS last_at
      FROM callbacks c
      WHERE c.verdict NOT IN ('accepted', 'orphan', 'awaiting_fp')
      GROUP BY 1, 2, 3
      UNION ALL
      SELECT (n.hour AT TIME ZONE 'Europe/Oslo')::date, n.source, n.verdict,
             0, sum(n.count), min(n.hour), max(n.hour) + interval '59 minutes 59 seconds'
      FROM untrusted_callback_counts n
      GROUP BY 1, 2, 3) u
GROUP BY day, source, verdict;

-- The report's day filter, and the retention job's delete, on untrusted
-- rows only (the predicate is store.Untrusted's).
CREATE INDEX callbacks_untrusted_day_idx ON callbacks (((received_at AT TIME ZONE 'Europe/Oslo')::date))
    WHERE verdict NOT IN ('accepted', 'orphan', 'awaiting_fp');
CREATE INDEX untrusted_callback_counts_day_idx ON untrusted_callback_counts (((hour AT TIME ZONE 'Europe/Oslo')::date));
