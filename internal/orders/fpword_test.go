package orders_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/frontpayment/fpexport/internal/orders"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// FP's word writes its event with the move, whatever it does: a move, an
// unknown status, a late word, a second FP order. Each leaves exactly one
// "callback" event whose detail carries the caller's fields and the
// result, and rolled back none of it stays.
func TestFPWordWritesItsEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cases := []struct {
		name       string
		from       string
		word       orders.FPWord
		wantStatus string
		wantResult string
	}{
		{"moves", "submitted", orders.FPWord{OrderUUID: "ODR1", Status: "PAID", CreatedAt: 200}, "paid", "moved submitted → paid"},
		{"unknown status", "submitted", orders.FPWord{OrderUUID: "ODR1", Status: "MYSTERY", CreatedAt: 200}, "submitted", "unknown FP status kept; our status unchanged"},
		{"late word, forward", "submitted", orders.FPWord{OrderUUID: "ODR1", Status: "SENT", CreatedAt: 50}, "sent", "moved submitted → sent"},
		{"late word, back", "paid", orders.FPWord{OrderUUID: "ODR1", Status: "SENT", CreatedAt: 50}, "paid", "ignored: older than FP's status already applied"},
		{"second FP order", "submitted", orders.FPWord{OrderUUID: "ODR2", Status: "PAID", CreatedAt: 200}, "submitted", "possible duplicate: order already has ODR1"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := addOrder(t, pool, "invoice", "W-"+string(rune('A'+i)), c.from, "ODR1", "")
			if _, err := pool.Exec(ctx, `UPDATE orders SET fp_status = 'SENT', fp_status_created_at = 100 WHERE id = $1`, id); err != nil {
				t.Fatal(err)
			}
			apply := func(commit bool) {
				t.Helper()
				tx, err := pool.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback(ctx)
				o, err := store.LockOrder(ctx, tx, id)
				if err != nil {
					t.Fatal(err)
				}
				result, err := orders.ApplyFPWord(ctx, tx, o, c.word, map[string]any{"source": "test", "callback_id": 7}, log)
				if err != nil || result != c.wantResult {
					t.Fatalf("ApplyFPWord: %q, %v; want %q", result, err, c.wantResult)
				}
				if commit {
					if err := tx.Commit(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			apply(false)
			if got := readOrder(t, ctx, pool, id); got.Status != c.from || len(got.Events) != 0 {
				t.Fatalf("rolled back, yet: %+v", got)
			}
			apply(true)
			got := readOrder(t, ctx, pool, id)
			if got.Status != c.wantStatus || len(got.Events) != 1 || got.Events[0] != "callback/" {
				t.Fatalf("after FP's word: %+v, want status %s and one callback event", got, c.wantStatus)
			}
			var source, result string
			var cbID int
			if err := pool.QueryRow(ctx, `SELECT detail->>'source', detail->>'result', (detail->>'callback_id')::int
				FROM order_events WHERE order_id = $1`, id).Scan(&source, &result, &cbID); err != nil {
				t.Fatal(err)
			}
			if source != "test" || cbID != 7 || result != c.wantResult {
				t.Errorf("event detail: source %q, callback_id %d, result %q", source, cbID, result)
			}
		})
	}
}
