package orders

import (
	"context"
	"testing"

	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// TestDoorFollowsTheTable makes every (from, to, actor) move through the
// door, on an order in from, and checks that it is made exactly when the
// table allows it: the status and the event are written, or nothing is.
// With always (FP's word, the submit job recording FP's acceptance) the
// move's other columns are written either way and only the status obeys
// the table.
func TestDoorFollowsTheTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	id := testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: "D-1"})
	for _, always := range []bool{false, true} {
		for _, by := range orderstate.Actors {
			for _, from := range orderstate.All {
				for _, to := range orderstate.All {
					allowed := orderstate.Allowed(from, to, by)
					tableHasIt := len(orderstate.From(to, by)) > 0
					err := func() error {
						// Rolled back: the next move starts from a clean order.
						tx, err := pool.Begin(ctx)
						if err != nil {
							return err
						}
						defer tx.Rollback(ctx) //nolint:errcheck
						if _, err := tx.Exec(ctx, `UPDATE orders SET status = $2, last_error = NULL WHERE id = $1`, id, string(from)); err != nil {
							return err
						}
						applied, err := door(ctx, tx, id, move{by: by, to: to, event: "test", always: always, set: `, last_error = 'written'`})
						if !tableHasIt {
							if err == nil {
								t.Errorf("%s → %s by %s: no row of the table has it, but the door took it", from, to, by)
							}
						} else if err != nil {
							return err
						} else if want := allowed || always; applied != want {
							t.Errorf("%s → %s by %s (always %v): door reported %v, want %v", from, to, by, always, applied, want)
						}
						var status string
						var written bool
						var events int
						if err := tx.QueryRow(ctx, `SELECT status, last_error IS NOT NULL,
								(SELECT count(*) FROM order_events WHERE order_id = $1) FROM orders WHERE id = $1`, id).
							Scan(&status, &written, &events); err != nil {
							return err
						}
						wantStatus, wantWritten := from, false
						if allowed {
							wantStatus, wantWritten = to, true
						}
						if always && tableHasIt {
							wantWritten = true
						}
						wantEvents := 0
						if wantWritten {
							wantEvents = 1
						}
						if status != string(wantStatus) || written != wantWritten || events != wantEvents {
							t.Errorf("%s → %s by %s (always %v): status %s, columns written %v, %d events; want %s, %v, %d",
								from, to, by, always, status, written, events, wantStatus, wantWritten, wantEvents)
						}
						return nil
					}()
					if err != nil {
						t.Fatalf("%s → %s by %s: %v", from, to, by, err)
					}
				}
			}
		}
	}
}
