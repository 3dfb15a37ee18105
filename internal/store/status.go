package store

import (
	"context"
	"time"
)

// OrderCountsByStatus counts all orders per status (the metrics' gauge).
func OrderCountsByStatus(ctx context.Context, db DB) (map[string]int64, error) {
	rows, err := db.Query(ctx, `SELECT status, count(*) FROM orders GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// QueueStat is River's work waiting in one queue and state.
type QueueStat struct {
	Queue string
	State string // available, scheduled, retryable or running
	Jobs  int64
	// OldestAge is how long the oldest of these jobs has existed
	// (now − created_at, on the database's clock).
	OldestAge time.Duration
}

// QueueStats reads River's jobs that are not finished, per queue and state.
// Finished jobs (completed, cancelled, discarded) are not work waiting.
func QueueStats(ctx context.Context, db DB) ([]QueueStat, error) {
	rows, err := db.Query(ctx, `SELECT queue, state::text, count(*),
			extract(epoch FROM now() - min(created_at))::float8
		FROM river_job WHERE state IN ('available', 'scheduled', 'retryable', 'running')
		GROUP BY queue, state ORDER BY queue, state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []QueueStat
	for rows.Next() {
		var q QueueStat
		var age float64
		if err := rows.Scan(&q.Queue, &q.State, &q.Jobs, &age); err != nil {
			return nil, err
		}
		q.OldestAge = time.Duration(age * float64(time.Second))
		out = append(out, q)
	}
	return out, rows.Err()
}
