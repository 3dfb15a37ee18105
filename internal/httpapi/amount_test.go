package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/frontpayment/fpexport/internal/callbackurl"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// FP's amount is read from the same parameters as orderUuid, status and
// createdAt, in the query, a form body or a JSON body, stored in
// callbacks.amount and handed to the apply job by store.LockCallback. One
// that is not an amount is stored as "" and the callback is judged as
// without it (the checksum does not cover the amount).
func TestCallbackAmountStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	const ours = int64(1)
	if _, err := pool.Exec(ctx, `INSERT INTO orders (id, kind, order_ref, batch_id, source, source_row, customer_name,
			grand_total_ore, order_data, fingerprint, status, fp_order_uuid)
		VALUES ($1, 'payment-link', 'A-1', 1, 'a.csv', 2, 'Kari', 450050, '{}', 'a', 'sent', $2)`, ours, fpUUID); err != nil {
		t.Fatal(err)
	}
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{}) // inserts only
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Pool: pool, River: rc, CallbackSecret: testSecret, ChecksumKey: testKey,
		Location: time.UTC, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	now := time.Now()
	created := strconv.FormatInt(now.Unix(), 10)
	checksum := fpclient.Checksum(fpUUID, "PAID", created, testKey)
	full := func(amount string) string { // everything in the query
		q := callbackParams(ours, testKey, now)
		q.Set("amount", amount)
		return q.Encode()
	}
	signed := callbackParams(ours, testKey, now)
	refToken := url.Values{"ref": signed["ref"], "token": signed["token"]}.Encode() // the callbackUrl we gave FP
	// FP's fields appended after a second "?":
	appended := func(amount string) string {
		q := url.Values{"orderUuid": signed["orderUuid"], "status": signed["status"], "createdAt": signed["createdAt"],
			"checksum": signed["checksum"], "amount": {amount}}
		return refToken + "?" + q.Encode()
	}
	form := func(amount string) string { // FP's fields in a form body
		return url.Values{"orderUuid": {fpUUID}, "status": {"PAID"}, "createdAt": {created}, "checksum": {checksum},
			"amount": {amount}}.Encode()
	}
	jsonBody := func(amount string) string { // FP's fields in a JSON body; amount as JSON text
		return `{"orderUuid":"` + fpUUID + `","status":"PAID","createdAt":` + created +
			`,"checksum":"` + checksum + `","amount":` + amount + `}`
	}
	const formType, jsonType = "application/x-www-form-urlencoded", "application/json"
	cases := []struct {
		name        string
		query       string
		contentType string // "": a GET
		body        string
		want        string
	}{
		{name: "query", query: full("4500.50"), want: "4500.50"},
		{name: "query, second ? instead of &", query: appended("12"), want: "12"},
		{name: "form body", query: refToken, contentType: formType, body: form("4500.50"), want: "4500.50"},
		{name: "JSON body, amount a number", query: refToken, contentType: jsonType, body: jsonBody("4500.5"), want: "4500.5"},
		{name: "JSON body, amount a string", query: refToken, contentType: jsonType, body: jsonBody(`"0.00"`), want: "0.00"},
		{name: "query: decimal comma is not an amount", query: full("4500,50"), want: ""},
		{name: "query: three decimals is not an amount", query: full("4500.505"), want: ""},
		{name: "form: a word is not an amount", query: refToken, contentType: formType, body: form("all"), want: ""},
		{name: "JSON: grouped is not an amount", query: refToken, contentType: jsonType, body: jsonBody(`"4 500.50"`), want: ""},
		{name: "none", query: callbackParams(ours, testKey, now).Encode(), want: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := http.MethodGet
			if c.contentType != "" {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, srv.URL+callbackurl.Path+"?"+c.query, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// Whatever the amount, the callback is judged on FP's
			// checksummed fields: accepted.
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("HTTP %d (%q), want 200", resp.StatusCode, strings.TrimSpace(string(answer)))
			}
			got := lastCallback(t, ctx, pool)
			if got.verdict != store.VerdictAccepted {
				t.Errorf("verdict %q, want accepted", got.verdict)
			}
			tx, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			cb, err := store.LockCallback(ctx, tx, got.id)
			if err != nil {
				t.Fatal(err)
			}
			if cb.Amount != c.want {
				t.Errorf("amount handed to the apply job %q, want %q", cb.Amount, c.want)
			}
		})
	}
}
