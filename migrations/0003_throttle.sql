-- The pace of requests to FP, shared by every worker process on this
-- database (internal/throttle). One row.
--
-- next_send_at is the earliest time the next request may go out: each sender
-- takes max(next_send_at, now) as its slot and moves next_send_at one
-- interval on, in a single UPDATE, so processes never share a slot.
-- fp_* is FP's own budget as its last answer reported it (x-ratelimit-*),
-- with the estimated end of FP's one-minute window. paused_* is set when FP
-- refuses the token (401/403): nothing is sent until a probe succeeds.
--
-- UNLOGGED: this is pacing state, written on every request; it needs no WAL
-- and no fsync at commit (two of each per request cost ~30 % of submission
-- throughput). After a database crash PostgreSQL empties it and the
-- throttle writes the row again (internal/throttle ensureRow).
CREATE UNLOGGED TABLE fp_throttle (
    id             int PRIMARY KEY CHECK (id = 1),
    next_send_at   timestamptz NOT NULL DEFAULT '-infinity',
    fp_limit       int,
    fp_remaining   int,
    fp_seen_at     timestamptz,
    fp_window_ends timestamptz,
    paused_since   timestamptz,
    paused_until   timestamptz NOT NULL DEFAULT '-infinity',
    pause_reason   text        NOT NULL DEFAULT ''
);
INSERT INTO fp_throttle (id) VALUES (1);

-- Worker processes that send to FP, with a heartbeat: FP_CONCURRENCY is
-- shared out among the live ones.
CREATE UNLOGGED TABLE fp_senders (
    id         text PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz NOT NULL DEFAULT now()
);
