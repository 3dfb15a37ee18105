package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/testdb"
)

// seededDB is a test database with a failed order, one in needs_review that
// FP may hold, a silent one and a paid one with a history.
func seededDB(t *testing.T) (url string, ids map[string]int64) {
	t.Helper()
	url = testdb.URL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	batch := testdb.AddBatch(t, pool, "mars.csv", 4)
	ids = map[string]int64{}
	for _, o := range []testdb.Order{
		{Kind: "invoice", Ref: "F-1", Status: "failed", LastError: "FP answered 500: try again later"},
		{Kind: "invoice", Ref: "N-1", Status: "needs_review", FPOrderUUID: "ODR4440000001"},
		{Kind: "checkout", Ref: "S-1", Status: "submitted", FPOrderUUID: "ODR4440000002"},
		{Kind: "invoice", Ref: "P-1", Status: "paid", FPOrderUUID: "ODR4440000003"},
	} {
		o.BatchID = batch
		ids[o.Ref] = testdb.AddOrder(t, pool, o)
	}
	ctx := context.Background()
	for _, q := range []string{
		`UPDATE orders SET submitted_at = now() - interval '100 hours' WHERE order_ref = 'S-1'`,
		`UPDATE orders SET customer_name = 'Åse Øvrebø', order_data = '{"customer":{"email":"ase@example.no","personal_number":"01019012345"},
			"lines":[{"product_id":"P1","name":"Sykkel","quantity":"1","rate":"4500.00","discount":"0.00","tax_percent":25}]}'
			WHERE order_ref = 'P-1'`,
		`INSERT INTO order_events (order_id, type, status, detail) SELECT id, 'review_confirmed', 'submitted', '{"by":"kari","note":"sjekket i portalen"}'
			FROM orders WHERE order_ref = 'P-1'`,
		`INSERT INTO callbacks (raw_query, remote_addr, order_id, fp_order_uuid, fp_status, verdict) SELECT 'token=secret', '192.0.2.9', id,
			'ODR4440000003', 'PAID', 'accepted' FROM orders WHERE order_ref = 'P-1'`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return url, ids
}

func TestAttentionCommand(t *testing.T) {
	t.Parallel()
	url, ids := seededDB(t)
	out, errOut, err := command(t, url, "attention")
	if err != nil {
		t.Fatalf("attention: %v\n%s", err, errOut)
	}
	t.Logf("worker attention:\n%s", out)
	for _, want := range []string{
		"Trenger oppfølging: 3 saker",
		"Usikkert om FP har ordren (needs_review): 1", fmt.Sprintf("%d invoice:N-1", ids["N-1"]), "ODR4440000001", "review",
		"Feilet (failed): 1", "retry,withdraw", "FP answered 500: try again later", "4\u00a0500,00",
		"Ikke hørt fra FP på 3 d (no_word_from_fp): 1", "checkout:S-1", "4 d", "resend,cancel",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("attention lacks %q", want)
		}
	}
	if strings.Contains(out, "P-1") {
		t.Error("the paid order is listed")
	}

	out, _, err = command(t, url, "attention", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Total  int64            `json:"total"`
		Totals map[string]int64 `json:"totals"`
		Items  []struct {
			Reason     string   `json:"reason"`
			AgeSeconds int64    `json:"age_seconds"`
			Actions    []string `json:"actions"`
			Order      struct {
				ID    int64           `json:"id"`
				Ref   string          `json:"order_ref"`
				Total json.RawMessage `json:"total"`
			} `json:"order"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if list.Total != 3 || list.Totals["failed"] != 1 || list.Totals["untrusted_callbacks"] != 0 || len(list.Items) != 3 ||
		list.Items[0].Reason != "needs_review" || list.Items[0].Order.ID != ids["N-1"] || string(list.Items[0].Order.Total) != "4500.00" ||
		list.Items[2].Reason != "no_word_from_fp" || list.Items[2].AgeSeconds < 100*3600 {
		t.Errorf("json: %s", out)
	}

	// STALE_AFTER from the environment.
	var stdout, stderr strings.Builder
	err = run(context.Background(), []string{"attention", "--lang", "en"}, envOf(map[string]string{"DATABASE_URL": url, "STALE_AFTER": "200h"}), &stdout, &stderr)
	if err != nil || strings.Contains(stdout.String(), "S-1") || !strings.Contains(stdout.String(), "Needs attention: 2 items") {
		t.Errorf("STALE_AFTER 200h, --lang en: %v\n%s%s", err, stdout.String(), stderr.String())
	}
}

func TestOrdersAndOrderCommands(t *testing.T) {
	t.Parallel()
	url, ids := seededDB(t)
	out, errOut, err := command(t, url, "orders", "--search", "øvrebø")
	if err != nil {
		t.Fatalf("orders: %v\n%s", err, errOut)
	}
	t.Logf("worker orders --search øvrebø:\n%s", out)
	if !strings.HasPrefix(out, "1 ordrer funnet") || !strings.Contains(out, fmt.Sprintf("%d invoice:P-1", ids["P-1"])) || !strings.Contains(out, "Åse Øvrebø") {
		t.Errorf("orders:\n%s", out)
	}
	out, _, err = command(t, url, "orders", "--search", "odr4440000002", "--format", "json")
	var found struct {
		Orders []struct {
			Ref string `json:"order_ref"`
		} `json:"orders"`
	}
	if err != nil || json.Unmarshal([]byte(out), &found) != nil || len(found.Orders) != 1 || found.Orders[0].Ref != "S-1" {
		t.Errorf("orders by FP id: %v\n%s", err, out)
	}

	out, errOut, err = command(t, url, "order", "P-1")
	if err != nil {
		t.Fatalf("order: %v\n%s", err, errOut)
	}
	t.Logf("worker order P-1:\n%s", out)
	for _, want := range []string{
		fmt.Sprintf("Ordre %d — invoice:P-1", ids["P-1"]), "Kunde: Åse Øvrebø, ase@example.no", "FP-ordre-ID: ODR4440000003",
		"Sykkel", "totalt 4\u00a0500,00", "review_confirmed", "av kari «sjekket i portalen»", "varsel fra FP", "accepted", "PAID",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("order lacks %q", want)
		}
	}
	if strings.Contains(out, "12345") || strings.Contains(out, "secret") {
		t.Errorf("order shows a personal number or a callback's token:\n%s", out)
	}
	out, _, err = command(t, url, "order", fmt.Sprint(ids["P-1"]), "--format", "json")
	var h struct {
		Order struct {
			Ref string `json:"order_ref"`
		} `json:"order"`
		History []struct {
			Kind string `json:"kind"`
		} `json:"history"`
	}
	if err != nil || json.Unmarshal([]byte(out), &h) != nil || h.Order.Ref != "P-1" || len(h.History) != 3 || h.History[0].Kind != "import" || strings.Contains(out, "01019012345") {
		t.Errorf("order json: %v\n%s", err, out)
	}

	// Mistakes: exit code 2 with the usage; an unknown order is an error.
	for _, args := range [][]string{
		{"orders"}, {"orders", "--search", " "}, {"orders", "x"}, {"order"}, {"order", "a", "b"},
		{"attention", "--format", "xml"}, {"attention", "--lang", "de"}, {"attention", "--limit", "0"},
	} {
		_, errOut, err := command(t, url, args...)
		if !errors.Is(err, errUsage) || !strings.Contains(errOut, "usage:") {
			t.Errorf("%q: %v\n%s", args, err, errOut)
		}
	}
	if _, _, err := command(t, url, "order", "NOPE-1"); err == nil || errors.Is(err, errUsage) || !strings.Contains(err.Error(), "NOPE-1") {
		t.Errorf("unknown order: %v", err)
	}
}
