package daemon

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// WaitSettled waits until no order touched since start is waiting to be sent
// (or, with callbacks, for its first callback), and no submit or callback job
// is pending.
func WaitSettled(ctx context.Context, pool *pgxpool.Pool, start time.Time, callbacks bool, timeout time.Duration) error {
	waitingFor := []string{"queued", "submitting"}
	if callbacks {
		waitingFor = append(waitingFor, "submitted")
	}
	deadline := time.Now().Add(timeout)
	for {
		var waiting, pending int
		err := pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM orders WHERE status = ANY($2) AND updated_at >= $1),
			(SELECT count(*) FROM river_job WHERE queue IN ('submit', 'callbacks')
				AND state IN ('available', 'running', 'retryable', 'scheduled', 'pending'))`, start, waitingFor).Scan(&waiting, &pending)
		if err != nil {
			return err
		}
		if waiting == 0 && pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d orders still waiting for FP after %s: %s", waiting, timeout, describeWaiting(ctx, pool, start, waitingFor))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// describeWaiting names up to five waiting orders and what they wait for.
func describeWaiting(ctx context.Context, pool *pgxpool.Pool, start time.Time, statuses []string) string {
	rows, err := pool.Query(ctx, `SELECT order_ref, kind, status, attempts, coalesce(last_error, '')
		FROM orders WHERE status = ANY($2) AND updated_at >= $1 ORDER BY id LIMIT 5`, start, statuses)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var ref, kind, status, lastErr string
		var attempts int
		if err := rows.Scan(&ref, &kind, &status, &attempts, &lastErr); err != nil {
			return err.Error()
		}
		parts = append(parts, fmt.Sprintf("%s (%s) %s after %d attempts %s", ref, kind, status, attempts, lastErr))
	}
	return strings.Join(parts, "; ")
}
