package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// addOrder records an order directly, in the given state (testdb.AddOrder).
func addOrder(t *testing.T, pool *pgxpool.Pool, kind, ref, status, fpUUID, dup string) int64 {
	return testdb.AddOrder(t, pool, testdb.Order{Kind: kind, Ref: ref, Status: status, FPOrderUUID: fpUUID, PossibleDuplicate: dup})
}

func TestResolveOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	inv := addOrder(t, pool, "invoice", "A-1", "needs_review", "", "")
	pl := addOrder(t, pool, "payment-link", "A-1", "needs_review", "", "")
	b := addOrder(t, pool, "invoice", "B-2", "needs_review", "", "")
	// An order whose reference is another order's id.
	num := addOrder(t, pool, "invoice", strconv.FormatInt(b, 10), "needs_review", "", "")

	for spec, want := range map[string]int64{
		strconv.FormatInt(inv, 10):            inv,
		"invoice:A-1":                         inv,
		"payment-link:A-1":                    pl,
		" B-2 ":                               b,
		"invoice:B-2":                         b,
		"invoice:" + strconv.FormatInt(b, 10): num,
	} {
		got, err := store.ResolveOrder(ctx, pool, spec)
		if err != nil || got.ID != want {
			t.Errorf("ResolveOrder(%q) = %+v, %v; want order %d", spec, got, err, want)
		}
	}
	for spec, want := range map[string]string{
		"A-1":                    "fits more than one order",
		strconv.FormatInt(b, 10): "fits more than one order",
		"nope":                   "no order",
		"invoice:nope":           "no order",
		"":                       "no order named",
	} {
		got, err := store.ResolveOrder(ctx, pool, spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ResolveOrder(%q) = %+v, %v; want an error saying %q", spec, got, err, want)
		}
	}
	if _, err := store.ResolveOrder(ctx, pool, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown order: %v, want ErrNotFound", err)
	}
}

// Two operators decide the same order at once: the second waits for the
// first's lock, then finds the order decided and changes nothing.
