package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// The navigation's count is the list's total, reason by reason capped the
// same way.
func TestAttentionCountIsTheListsTotal(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	now := time.Now()
	count := func() int64 {
		t.Helper()
		n, err := store.AttentionCount(ctx, pool, now, store.DefaultStaleAfter)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("empty database: %d open items", n)
	}
	batch := testdb.AddBatch(t, pool, "mars.csv", 5)
	for i, status := range []string{"needs_review", "failed", "failed", "provider_rejected", "invalid_payload", "paid", "queued"} {
		testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: "R-" + string(rune('a'+i)), Status: status, BatchID: batch})
	}
	testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: "R-dup", Status: "sent", FPOrderUUID: "ODR1", PossibleDuplicate: "ODR2"})
	if _, err := pool.Exec(ctx, `INSERT INTO callbacks (received_at, raw_query, remote_addr, fp_order_uuid, fp_status, verdict)
		VALUES (now(), 'x', '192.0.2.1', 'ODR9', 'PAID', 'orphan'), (now(), 'x', '192.0.2.2', 'ODR9', 'PAID', 'bad_checksum'),
		       (now(), 'x', '192.0.2.2', 'ODR9', 'PAID', 'bad_checksum')`); err != nil {
		t.Fatal(err)
	}
	list, err := store.Attention(ctx, pool, now, store.DefaultStaleAfter, 2) // a small limit: the full reasons are counted
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, n := range list.Totals {
		want += n
	}
	// needs_review, 2 failed, provider_rejected, invalid_payload, the
	// duplicate, one orphan, one untrusted source.
	if want != 8 {
		t.Fatalf("the list's total is %d (%v), want 8", want, list.Totals)
	}
	if n := count(); n != want {
		t.Errorf("AttentionCount = %d, the list's total %d", n, want)
	}
}
