package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// searchRefs is SearchOrders' references, newest first.
func searchRefs(t *testing.T, pool *pgxpool.Pool, text string) []string {
	t.Helper()
	found, err := store.SearchOrders(context.Background(), pool, text, 50)
	if err != nil {
		t.Fatalf("search %q: %v", text, err)
	}
	refs := []string{}
	for _, o := range found {
		refs = append(refs, o.Ref)
	}
	return refs
}

// indexed is how many orders order_search holds and how many batches are
// listed as indexed.
func indexed(t *testing.T, pool *pgxpool.Pool) (orders, batches int) {
	t.Helper()
	if err := pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM order_search),
		(SELECT count(*) FROM order_search_batches)`).Scan(&orders, &batches); err != nil {
		t.Fatal(err)
	}
	return orders, batches
}

// setCustomer gives order id a customer name and e-mail address.
func setCustomer(t *testing.T, pool *pgxpool.Pool, id int64, name, email string) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `UPDATE orders SET customer_name = $2,
		order_data = json_build_object('customer', json_build_object('name', $2::text, 'email', $3::text)) WHERE id = $1`,
		id, name, email); err != nil {
		t.Fatal(err)
	}
}

func TestSearchBeforeAndAfterIndexing(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	b := testdb.AddBatch(t, pool, "mars.csv", 2)
	a := testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: "INV-1", BatchID: b})
	setCustomer(t, pool, a, "Åse Øvrebø", "ase@fjord.no")
	c := testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: "INV-2", BatchID: b})
	setCustomer(t, pool, c, "Ola Hansen", "ola@firma.no")

	// Not indexed yet: the tail finds them.
	for text, want := range map[string][]string{"øvrebø": {"INV-1"}, "FJORD.no": {"INV-1"}, "inv-": {"INV-2", "INV-1"}, "hansen": {"INV-2"}} {
		if got := searchRefs(t, pool, text); !slices.Equal(got, want) {
			t.Errorf("before indexing, %q: %q, want %q", text, got, want)
		}
	}

	n, err := store.IndexSearch(ctx, pool, 1, 0) // a chunk of one: the batch takes two chunks
	if err != nil || n != 2 {
		t.Fatalf("IndexSearch = %d, %v", n, err)
	}
	if o, bs := indexed(t, pool); o != 2 || bs != 1 {
		t.Fatalf("indexed %d orders, %d batches", o, bs)
	}
	// Off the tail: nothing is read from orders but through the index.
	var tail int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM batches b
		WHERE NOT EXISTS (SELECT 1 FROM order_search_batches d WHERE d.batch_id = b.id)`).Scan(&tail); err != nil || tail != 0 {
		t.Fatalf("batches not indexed: %d, %v", tail, err)
	}
	for text, want := range map[string][]string{"øvrebø": {"INV-1"}, "FJORD.no": {"INV-1"}, "inv-": {"INV-2", "INV-1"},
		"hansen": {"INV-2"}, "zzz": {}} {
		if got := searchRefs(t, pool, text); !slices.Equal(got, want) {
			t.Errorf("after indexing, %q: %q, want %q", text, got, want)
		}
	}
	// Running again writes nothing.
	if n, err := store.IndexSearch(ctx, pool, 100, 0); err != nil || n != 0 {
		t.Errorf("second run: %d, %v", n, err)
	}
}

// An import that changes an order writes it with its batch's id and the
// next version; the order is found by its new name and not its old, before
// the new batch is indexed (the stale index row is checked against the
// order) and after.
func TestSearchChangedName(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	b1 := testdb.AddBatch(t, pool, "mars.csv", 1)
	id := testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: "INV-1", BatchID: b1})
	setCustomer(t, pool, id, "Kari Nordmann", "kari@nordmann.no")
	if _, err := store.IndexSearch(ctx, pool, 10, 0); err != nil {
		t.Fatal(err)
	}
	if got := searchRefs(t, pool, "nordmann"); !slices.Equal(got, []string{"INV-1"}) {
		t.Fatalf("old name: %q", got)
	}

	// The change, as the import's merge writes it.
	b2 := testdb.AddBatch(t, pool, "april.csv", 1)
	setCustomer(t, pool, id, "Kari Vik", "kari@vik.no")
	if _, err := pool.Exec(ctx, `UPDATE orders SET batch_id = $2, version = version + 1 WHERE id = $1`, id, b2); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		if got := searchRefs(t, pool, "nordmann"); len(got) != 0 {
			t.Errorf("%s: found by its old name: %q", when, got)
		}
		for _, text := range []string{"kari vik", "vik.no"} {
			if got := searchRefs(t, pool, text); !slices.Equal(got, []string{"INV-1"}) {
				t.Errorf("%s: %q: %q", when, text, got)
			}
		}
	}
	check("before indexing the change")
	if n, err := store.IndexSearch(ctx, pool, 10, 0); err != nil || n != 1 {
		t.Fatalf("IndexSearch = %d, %v", n, err)
	}
	var version int
	var text string
	if err := pool.QueryRow(ctx, `SELECT version, text FROM order_search WHERE order_id = $1`, id).Scan(&version, &text); err != nil ||
		version != 2 || text != "inv-1\nkari vik\nkari@vik.no" {
		t.Errorf("order_search: %d %q, %v", version, text, err)
	}
	check("after indexing the change")
}

// A name one order in many has is found through the index, among orders
// that share the rest of their text.
func TestSearchRareNameAmongMany(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	b := testdb.AddBatch(t, pool, "mars.csv", 5000)
	if _, err := pool.Exec(ctx, `INSERT INTO orders (kind, order_ref, batch_id, source, source_row, customer_name, grand_total_ore,
			order_data, fingerprint)
		SELECT 'invoice', 'INV-' || i, $1, 'mars.csv', i + 1, CASE WHEN i = 1234 THEN 'Solveig Fjellheim' ELSE 'Ola Hansen' END, 100,
			json_build_object('customer', json_build_object('email', 'ola' || i || '@firma.no')), 'fp'
		FROM generate_series(1, 5000) i`, b); err != nil {
		t.Fatal(err)
	}
	// The whole batch in chunks, stopped after the first 2 000 orders.
	if n, err := store.IndexSearch(ctx, pool, 1000, 2000); err != nil || n != 2000 {
		t.Fatalf("IndexSearch with a limit = %d, %v", n, err)
	}
	if o, bs := indexed(t, pool); o != 2000 || bs != 0 {
		t.Fatalf("after the limit: %d orders, %d batches", o, bs)
	}
	if got := searchRefs(t, pool, "fjellheim"); !slices.Equal(got, []string{"INV-1234"}) {
		t.Errorf("half indexed: %q", got)
	}
	if n, err := store.IndexSearch(ctx, pool, 1000, 0); err != nil || n != 3000 {
		t.Fatalf("IndexSearch = %d, %v", n, err)
	}
	for text, want := range map[string][]string{"fjellheim": {"INV-1234"}, "ola1234@": {"INV-1234"}, "solveig f": {"INV-1234"}} {
		if got := searchRefs(t, pool, text); !slices.Equal(got, want) {
			t.Errorf("%q: %q, want %q", text, got, want)
		}
	}
	if got := searchRefs(t, pool, "hansen"); len(got) != 50 || got[0] != "INV-5000" {
		t.Errorf("hansen: %d found, first %q", len(got), got[:min(1, len(got))])
	}
}
