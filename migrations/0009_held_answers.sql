-- Held answers (issue 10, point 6; internal/throttle hold.go).
--
-- submit_attempts.sender is the worker process (fp_senders.id) that
-- started the attempt. A job that finds an attempt without outcome asks
-- whether its sender may still hold FP's answer in memory (the database was
-- away when it came) before taking the attempt for abandoned. NULL for
-- attempts of earlier versions: judged as before.
ALTER TABLE submit_attempts ADD COLUMN sender text;

-- holding is how many FP answers the sender holds unrecorded, written with
-- its heartbeat and before each try to record one: while it is above zero
-- (and the heartbeat less than HOLD_ANSWERS_GRACE old) its open attempts are
-- left alone.
ALTER TABLE fp_senders ADD COLUMN holding int NOT NULL DEFAULT 0;
