package store

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// AttentionCount is how many open items there are as of now, in one
// statement of the same counts Attention makes (each reason's capped at
// AttentionCountCap): cheap enough for every page's navigation.
func AttentionCount(ctx context.Context, db DB, now time.Time, staleAfter time.Duration) (int64, error) {
	parts := make([]string, len(attentionQueries))
	for i, q := range attentionQueries {
		parts[i] = "least((" + q.count() + "), @shown)"
	}
	var n int64
	err := db.QueryRow(ctx, "SELECT "+strings.Join(parts, " + "),
		pgx.NamedArgs{"now": now, "stale_seconds": staleAfter.Seconds(), "cap": AttentionCountCap + 1, "shown": AttentionCountCap}).Scan(&n)
	return n, err
}
