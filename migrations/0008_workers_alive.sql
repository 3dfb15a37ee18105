-- One row per running worker process, its beat_at renewed every ~15 s
-- (issue 10, point 9). When a worker starts and the newest beat is older
-- than a few beats, no worker was taking FP's callbacks in between: FP gave
-- up on the callbacks of that gap, so the orders open then are asked for at
-- FP (job catchup_poll). Rows of processes gone are removed after a day.
CREATE TABLE workers_alive (
    worker_id  text        PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    beat_at    timestamptz NOT NULL DEFAULT now()
);
