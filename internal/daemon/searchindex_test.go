package daemon_test

import (
	"context"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/store"
)

// The running worker's periodic job puts an import's orders into the
// search index after the import committed; the import wrote none.
func TestSearchIndexJob(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	ctx := context.Background()
	batch := s.ImportCSV(t, "fire.csv", daemontest.FourKinds)[0].BatchID
	deadline := time.Now().Add(time.Minute)
	for s.Count(t, `SELECT count(*) FROM order_search_batches WHERE batch_id = $1`, batch) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("batch %d not indexed for search after a minute", batch)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := s.Count(t, `SELECT count(*) FROM order_search s JOIN orders o ON o.id = s.order_id
		WHERE o.batch_id = $1 AND s.version = o.version`, batch); n != 4 {
		t.Errorf("%d of the 4 orders indexed", n)
	}
	found, err := store.SearchOrders(ctx, s.Pool, "liv berg", 10)
	if err != nil || len(found) != 1 || found[0].Ref != "F-HC" {
		t.Errorf("search liv berg: %+v, %v", found, err)
	}
}
