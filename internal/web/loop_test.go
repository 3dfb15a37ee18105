package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/frontpayment/fpexport/internal/testdb"
)

func execSQL(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// navCount is the open items' count the navigation shows.
var navCount = regexp.MustCompile(`id="nav-attention">[^<]*<span class="count[^"]*">(\d+)</span>`)

func TestAttentionPage(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.client(t)
	c.mustLogin()

	_, page := c.get("/web/attention")
	if !strings.Contains(page, label("no", "attention.none")) {
		t.Errorf("empty attention page does not say nothing needs you:\n%s", page)
	}
	if m := navCount.FindStringSubmatch(page); m == nil || m[1] != "0" {
		t.Errorf("navigation count on an empty database: %v", m)
	}

	batch := testdb.AddBatch(t, b.pool, "mars.csv", 3)
	failed := testdb.AddOrder(t, b.pool, testdb.Order{Kind: "invoice", Ref: "R-<failed>", Status: "failed", BatchID: batch,
		LastError: "FP answered 500 <b>"})
	review := testdb.AddOrder(t, b.pool, testdb.Order{Kind: "invoice", Ref: "R-review", Status: "needs_review", BatchID: batch})
	testdb.AddOrder(t, b.pool, testdb.Order{Kind: "invoice", Ref: "R-paid", Status: "paid", FPOrderUUID: "ODR1", BatchID: batch})
	execSQL(t, b.pool, `UPDATE orders SET customer_name = '<script>alert(1)</script>', status_at = now() - interval '50 hours' WHERE id = $1`, failed)

	resp, page := c.get("/web/attention")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("attention: %d", resp.StatusCode)
	}
	for _, want := range []string{
		label("no", "reason.failed"), label("no", "reason.needs_review"),
		`href="/web/orders/` + strconv.FormatInt(failed, 10) + `#actions">` + label("no", "action.retry"),
		`href="/web/orders/` + strconv.FormatInt(review, 10) + `#actions">` + label("no", "action.review"),
		"R-&lt;failed&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;", "FP answered 500 &lt;b&gt;", "2 d",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("attention page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") || strings.Contains(page, "R-paid") {
		t.Errorf("attention page has a raw script or a paid order")
	}
	// needs_review is listed before failed (most urgent first).
	if strings.Index(page, "R-review") > strings.Index(page, "R-&lt;failed&gt;") {
		t.Errorf("needs_review is not listed first")
	}
	// The count is on every page, the list's total.
	_, other := c.get("/web/reports")
	if m := navCount.FindStringSubmatch(other); m == nil || m[1] != "2" {
		t.Errorf("navigation count on the reports page: %v, want 2", m)
	}
	_, en := c.get("/web/attention?lang=en")
	if !strings.Contains(en, label("en", "reason.needs_review")) || !strings.Contains(en, label("en", "action.retry")) {
		t.Errorf("English attention page lacks its labels")
	}
}

func TestOrderSearchAndPage(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.client(t)
	c.mustLogin()
	// Imported orders always have their batch: the search reads the orders
	// of batches its index has not taken yet.
	batch := testdb.AddBatch(t, b.pool, "mars.csv", 2)
	id := testdb.AddOrder(t, b.pool, testdb.Order{Kind: "invoice", Ref: "INV-9", Status: "sent", FPOrderUUID: "ODR5550000001", BatchID: batch})
	testdb.AddOrder(t, b.pool, testdb.Order{Kind: "invoice", Ref: "INV-10", Status: "queued", BatchID: batch})
	execSQL(t, b.pool, `UPDATE orders SET customer_name = 'Ola <Nordmann>', payment_url = 'https://pay.example/x', order_data = $2::json WHERE id = $1`, id,
		`{"ref":"INV-9","kind":"invoice","customer":{"type":"private","name":"Ola <Nordmann>","email":"ola@example.no","personal_number":"01019012345"},
		 "lines":[{"product_id":"P1","name":"Sykkel","quantity":"2","rate":"4500.00","discount":"0.00","tax_percent":25},
		          {"product_id":"P2","name":"Lykt","quantity":"1","rate":"100.00","discount":"10.00","tax_percent":25}],
		 "order_date":"2026-03-01","due_date":"2026-03-15"}`)
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	execSQL(t, b.pool, `INSERT INTO order_events (order_id, at, type, status, detail) VALUES
		($1, $2, 'imported', 'queued', '{"batch": 1}'),
		($1, $2::timestamptz + interval '3 minutes', 'status', 'sent', '{}'),
		($1, $2::timestamptz + interval '1 hour', 'review_confirmed', 'submitted', '{"by": "kari", "note": "FP har den"}')`, id, t0)
	execSQL(t, b.pool, `INSERT INTO submit_attempts (order_id, attempt, version, job_id, job_attempt, started_at, finished_at, outcome, http_status, message) VALUES
		($1, 1, 1, 7, 1, $2::timestamptz + interval '1 minute', $2::timestamptz + interval '1 minute', 'retryable', 500, 'Internal Error')`, id, t0)
	execSQL(t, b.pool, `INSERT INTO callbacks (received_at, raw_query, remote_addr, order_id, fp_order_uuid, fp_status, verdict, result) VALUES
		($2::timestamptz + interval '5 minutes', 'secret-token', '192.0.2.66', $1, 'ODR5550000001', 'PAID', 'bad_checksum', NULL)`, id, t0)

	_, page := c.get("/web/orders?q=" + url.QueryEscape("Ola"))
	if !strings.Contains(page, `href="/web/orders/`+strconv.FormatInt(id, 10)+`">INV-9</a>`) || strings.Contains(page, "INV-10") {
		t.Errorf("search for a name: wrong orders:\n%s", page)
	}
	if !strings.Contains(page, "Ola &lt;Nordmann&gt;") {
		t.Errorf("search result's name not escaped")
	}
	_, page = c.get("/web/orders?q=ODR5550000001&lang=en")
	if !strings.Contains(page, ">INV-9</a>") {
		t.Errorf("search by FP order id does not find the order")
	}
	_, page = c.get("/web/orders?q=nobody-has-this&lang=no")
	if !strings.Contains(page, label("no", "orders.none")[:len("Ingen ordre")]) || strings.Contains(page, "INV-9") {
		t.Errorf("search that finds nothing does not say so:\n%s", page)
	}

	resp, page := c.get("/web/orders/" + strconv.FormatInt(id, 10) + "?lang=no")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("order page: %d", resp.StatusCode)
	}
	for _, want := range []string{"Sykkel", "Lykt", "9\u00a0090,00", "7\u00a0280,00", "ola@example.no", `href="https://pay.example/x"`,
		"ODR5550000001", "Internal Error", "bad_checksum", "192.0.2.66", "kari", "FP har den", "Ola &lt;Nordmann&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("order page lacks %q\n%s", want, page)
		}
	}
	for _, never := range []string{"secret-token", "01019012345", "<Nordmann>"} {
		if strings.Contains(page, never) {
			t.Errorf("order page shows %q", never)
		}
	}
	// The history in time order: import, attempt, status, callback, decision.
	order := []string{">imported", ">retryable", ">status", ">bad_checksum", ">review_confirmed"}
	last := -1
	for _, s := range order {
		i := strings.Index(page, s)
		if i < last {
			t.Errorf("history out of order at %q", s)
		}
		last = i
	}
	_, en := c.get("/web/orders/" + strconv.FormatInt(id, 10) + "?lang=en")
	if !strings.Contains(en, "9,090.00") || !strings.Contains(en, label("en", "order.history")) {
		t.Errorf("English order page lacks its amounts or labels")
	}
	if resp, _ := c.get("/web/orders/999999"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown order: %d, want 404", resp.StatusCode)
	}
}

func TestViewerCannotAct(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	entries := "vera:" + string(hash) + ":viewer, ole:" + string(hash)
	users, _ := ParseUsers(entries)
	b := setup(t, func(c *Config) {
		c.Users, c.Roles = users, ParseRoles(entries)
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	content := sample(t, "orders.csv")
	sum := sha256.Sum256(content)
	sha := hex.EncodeToString(sum[:])

	viewer := b.client(t)
	viewer.loginAs("vera")
	_, up := viewer.get("/web/upload")
	csrf := csrfOf(t, up)
	// A viewer may look at a dry run, but is not offered the confirm.
	_, dry := viewer.upload(csrf, "", "", "orders.csv", content)
	if strings.Contains(dry, `id="confirm"`) || !strings.Contains(dry, `id="viewer-no-confirm"`) {
		t.Errorf("a viewer's dry run offers the confirm")
	}
	resp, body := viewer.postForm("/web/confirm", url.Values{"csrf": {csrf}, "sha256": {sha}, "kind": {""}, "profile": {""}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, label("no", "error.forbidden")) {
		t.Errorf("viewer's confirm: %d, want 403 with the reason", resp.StatusCode)
	}
	if n := count(t, b.pool, `SELECT count(*) FROM batches`); n != 0 {
		t.Errorf("a viewer's confirm imported %d batches", n)
	}
	if !strings.Contains(logs.String(), "action refused") || !strings.Contains(logs.String(), "user=vera") {
		t.Errorf("the refusal is not logged:\n%s", logs.String())
	}
	failed := testdb.AddOrder(t, b.pool, testdb.Order{Kind: "invoice", Ref: "F-1", Status: "failed"})
	resp, _ = viewer.postForm("/web/actions", url.Values{"csrf": {csrf}, "action": {"retry"}, "id": {strconv.FormatInt(failed, 10)}, "confirmed": {"1"}})
	if resp.StatusCode != http.StatusForbidden || orderStatus(t, b.pool, failed) != "failed" {
		t.Errorf("viewer's retry: %d, status %s; want 403 and failed", resp.StatusCode, orderStatus(t, b.pool, failed))
	}
	// Viewers still see the pages.
	for _, p := range []string{"/web/attention", "/web/orders?q=x", "/web/"} {
		if resp, _ := viewer.get(p); resp.StatusCode != http.StatusOK {
			t.Errorf("viewer GET %s: %d", p, resp.StatusCode)
		}
	}

	// An accountant (no role given) confirms the same upload.
	acc := b.client(t)
	acc.loginAs("ole")
	_, up = acc.get("/web/upload")
	resp, _ = acc.postForm("/web/confirm", url.Values{"csrf": {csrfOf(t, up)}, "sha256": {sha}, "kind": {""}, "profile": {""}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("accountant's confirm: %d, want 303\n%s", resp.StatusCode, logs.String())
	}
	if n := count(t, b.pool, `SELECT count(*) FROM batches`); n != 1 {
		t.Errorf("accountant's confirm: %d batches, want 1", n)
	}
}

func orderStatus(t *testing.T, pool *pgxpool.Pool, id int64) string {
	t.Helper()
	var s string
	if err := pool.QueryRow(context.Background(), `SELECT status FROM orders WHERE id = $1`, id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestActionsFromThePages(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.client(t)
	csrf := c.mustLogin()
	batch := testdb.AddBatch(t, b.pool, "mars.csv", 3)
	f1 := testdb.AddOrder(t, b.pool, testdb.Order{Kind: "invoice", Ref: "F-1", Status: "failed", BatchID: batch, LastError: "FP answered 503"})
	f2 := testdb.AddOrder(t, b.pool, testdb.Order{Kind: "invoice", Ref: "F-2", Status: "failed", BatchID: batch, LastError: "FP answered 503"})
	rv := testdb.AddOrder(t, b.pool, testdb.Order{Kind: "invoice", Ref: "R-1", Status: "needs_review", BatchID: batch})

	_, page := c.get("/web/attention?lang=no")
	if !strings.Contains(page, `id="bulk-failed"`) || !strings.Contains(page, `name="id" value="`+strconv.FormatInt(f2, 10)+`"`) {
		t.Fatalf("attention page offers no bulk retry:\n%s", page)
	}
	retry := url.Values{"csrf": {csrf}, "action": {"retry"}, "id": {strconv.FormatInt(f1, 10), strconv.FormatInt(f2, 10)}}

	// The first POST only asks for a confirmation.
	resp, page := c.postForm("/web/actions", retry)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `id="confirm-action"`) || !strings.Contains(page, "F-2") {
		t.Fatalf("confirmation page: %d\n%s", resp.StatusCode, page)
	}
	if orderStatus(t, b.pool, f1) != "failed" || count(t, b.pool, `SELECT count(*) FROM river_job`) != 0 {
		t.Fatalf("the confirmation page changed something")
	}
	// Without the token: refused.
	noToken := url.Values{"action": {"retry"}, "id": {strconv.FormatInt(f1, 10)}, "confirmed": {"1"}}
	if resp, _ := c.postForm("/web/actions", noToken); resp.StatusCode != http.StatusForbidden || orderStatus(t, b.pool, f1) != "failed" {
		t.Errorf("action without CSRF token: %d", resp.StatusCode)
	}

	retry.Set("confirmed", "1")
	retry.Set("note", "FP var nede <i>")
	resp, page = c.postForm("/web/actions", retry)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, label("no", "act.done.retry")) {
		t.Fatalf("retry: %d\n%s", resp.StatusCode, page)
	}
	for _, id := range []int64{f1, f2} {
		if s := orderStatus(t, b.pool, id); s != "queued" {
			t.Errorf("order %d after retry: %s, want queued", id, s)
		}
	}
	if n := count(t, b.pool, `SELECT count(*) FROM river_job WHERE kind = 'submit_order'`); n != 2 {
		t.Errorf("submit jobs after retry: %d, want 2", n)
	}
	if n := count(t, b.pool, `SELECT count(*) FROM order_events WHERE detail->>'by' = 'anna' AND detail->>'note' = 'FP var nede <i>'`); n != 2 {
		t.Errorf("events naming who retried and why: %d, want 2", n)
	}
	// Again: the orders are no longer failed; refused, nothing queued twice.
	resp, page = c.postForm("/web/actions", retry)
	if !strings.Contains(page, "Ikke utført") || count(t, b.pool, `SELECT count(*) FROM river_job`) != 2 {
		t.Errorf("a second retry was not refused: %d\n%s", resp.StatusCode, page)
	}

	// A review decision: FP has it, as this order id.
	_, page = c.get("/web/orders/" + strconv.FormatInt(rv, 10))
	if !strings.Contains(page, `id="act-review_confirm"`) || !strings.Contains(page, `id="act-review_new"`) {
		t.Errorf("the order page offers no review decision")
	}
	// An FP order id another order holds is refused, saying why.
	testdb.AddOrder(t, b.pool, testdb.Order{Kind: "invoice", Ref: "O-1", Status: "sent", FPOrderUUID: "ODR7770000002"})
	_, page = c.postForm("/web/actions", url.Values{"csrf": {csrf}, "action": {"review_confirm"}, "id": {strconv.FormatInt(rv, 10)},
		"confirmed": {"1"}, "fp_order_uuid": {"ODR7770000002"}})
	if !strings.Contains(page, "Ikke utført: FP order ODR7770000002 belongs to") || orderStatus(t, b.pool, rv) != "needs_review" {
		t.Errorf("a taken FP order id: status %s\n%s", orderStatus(t, b.pool, rv), page)
	}
	resp, page = c.postForm("/web/actions", url.Values{"csrf": {csrf}, "action": {"review_confirm"}, "id": {strconv.FormatInt(rv, 10)},
		"confirmed": {"1"}, "fp_order_uuid": {"odr7770000001"}, "note": {"sjekket i FP"}})
	if resp.StatusCode != http.StatusOK || orderStatus(t, b.pool, rv) != "submitted" {
		t.Errorf("review confirm: %d, status %s\n%s", resp.StatusCode, orderStatus(t, b.pool, rv), page)
	}
	if n := count(t, b.pool, `SELECT count(*) FROM orders WHERE fp_order_uuid = 'ODR7770000001'`); n != 1 {
		t.Errorf("FP's order id not recorded")
	}
}
