package store_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/frontpayment/fpexport/internal/testdb"
	"github.com/frontpayment/fpexport/migrations"
)

// Migration 0015 gives the callbacks stored before it the amount the apply
// job read from their raw_query until then, so an older callback still
// waiting for its job keeps its amount; one without stays "".
func TestMigrationCallbackAmountOfOlderRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	raws := map[string]string{ // raw_query → the amount it gives
		"ref=1&token=T&orderUuid=U&status=PAID&createdAt=1&amount=4500.50&checksum=x": "4500.50",
		"amount=12&ref=1":                           "12",
		"ref=1&token=T&status=PAID&checksum=x":      "",
		`ref=1&token=T&{"amount":4500.5}`:           "", // a JSON body: never read from raw_query
		"ref=1&amount=1%2C5&status=PAID":            "", // not digits and points
		"ref=1&totalamount=9&status=PAID&checksum=": "",
	}
	for raw := range raws {
		if _, err := pool.Exec(ctx, `INSERT INTO callbacks (remote_addr, raw_query, verdict) VALUES ('192.0.2.1', $1, 'accepted')`, raw); err != nil {
			t.Fatal(err)
		}
	}
	sql, err := fs.ReadFile(migrations.FS, "0015_callback_amount.sql")
	if err != nil {
		t.Fatal(err)
	}
	_, update, ok := strings.Cut(string(sql), "UPDATE callbacks")
	if !ok {
		t.Fatal("0015_callback_amount.sql has no UPDATE of the older rows")
	}
	if _, err := pool.Exec(ctx, "UPDATE callbacks"+update); err != nil {
		t.Fatal(err)
	}
	for raw, want := range raws {
		var got string
		if err := pool.QueryRow(ctx, `SELECT amount FROM callbacks WHERE raw_query = $1`, raw).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("raw_query %q: amount %q, want %q", raw, got, want)
		}
	}
}
