package intake_test

import (
	"context"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/msg"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// A change refused at commit time (the order is being sent) is a rejection
// of that order: a later import refused again leaves it open, one that is
// taken closes it, naming its batch.
func TestRefusedChangeResolvedByLaterImport(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	inserter, _ := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	commit := func(rate string) (int64, int) {
		t.Helper()
		f, err := intake.Open(write(t, "orders.csv", header+line("A-1", "Router", rate)+line("A-2", "Timer", "100.00")), options())
		if err != nil {
			t.Fatal(err)
		}
		res, err := intake.Commit(ctx, pool, inserter, []*intake.File{f}, intake.CommitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b := res.Batches[0]
		return b.BatchID, b.Counts[store.OrderRefused]
	}
	setStatus := func(status string) {
		t.Helper()
		if _, err := pool.Exec(ctx, `UPDATE orders SET status = $1 WHERE order_ref = 'A-1'`, status); err != nil {
			t.Fatal(err)
		}
	}
	rejected := func(batch int64) store.RejectedRow {
		t.Helper()
		rows, err := store.BatchRejectedRows(ctx, pool, batch)
		if err != nil || len(rows) != 1 {
			t.Fatalf("batch %d: rejected rows %+v, %v; want one", batch, rows, err)
		}
		return rows[0]
	}

	commit("4500.00")
	setStatus("submitting")
	refusedIn, n := commit("4600.00")
	if r := rejected(refusedIn); n != 1 || r.Kind != "invoice" || r.Ref != "A-1" || r.ResolvedBy != 0 {
		t.Fatalf("refused change: %d refused, row %+v; want its order stored, open", n, r)
	}
	// Its reason is a message of the catalogue, shown in the reader's language.
	if r := rejected(refusedIn); (msg.Msg{ID: r.MsgID, Args: r.MsgArgs}).Text(msg.NB) !=
		"ordre A-1 er endret, men den er submitting; importer endringen på nytt når den er avgjort" {
		t.Errorf("refused change's message: %q %q", r.MsgID, r.MsgArgs)
	}
	again, n := commit("4700.00")
	if r := rejected(refusedIn); n != 1 || r.ResolvedBy != 0 {
		t.Errorf("refused again: the first refusal %+v is closed, want it open", r)
	}
	setStatus("queued")
	taken, n := commit("4800.00")
	if n != 0 {
		t.Fatalf("the change was refused once the order is queued")
	}
	for _, b := range []int64{refusedIn, again} {
		if r := rejected(b); r.ResolvedBy != taken {
			t.Errorf("batch %d's refusal resolved by %d, want %d", b, r.ResolvedBy, taken)
		}
	}
	var open int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM open_rejected_rows`).Scan(&open); err != nil || open != 0 {
		t.Errorf("open_rejected_rows: %d, %v", open, err)
	}
}
