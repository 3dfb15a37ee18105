package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/frontpayment/fpexport/internal/callbackurl"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

const (
	testSecret = "callback-secret-for-tests"
	testKey    = "fp-checksum-key-for-tests"
	fpUUID     = "0b6f3c1e-7d0a-4c55-9a51-3f1f2f1d9e01"
)

// callbackParams builds a callback as FP would send it for order ref: our
// token, FP's fields and FP's checksum under key. The case then spoils
// what it needs to.
func callbackParams(ref int64, key string, createdAt time.Time) url.Values {
	created := strconv.FormatInt(createdAt.Unix(), 10)
	q := url.Values{}
	q.Set("ref", strconv.FormatInt(ref, 10))
	q.Set("token", callbackurl.Token(testSecret, ref))
	q.Set("orderUuid", fpUUID)
	q.Set("status", "PAID")
	q.Set("createdAt", created)
	q.Set("checksum", fpclient.Checksum(fpUUID, "PAID", created, key))
	return q
}

// storedCallback is a callbacks row and the River jobs naming it.
type storedCallback struct {
	id       int64
	verdict  string
	orderID  *int64
	fpStatus string
	remote   string
	raw      string
	jobKinds []string
}

// lastCallback reads the newest callbacks row and the jobs inserted for it.
func lastCallback(t *testing.T, ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) storedCallback {
	t.Helper()
	var c storedCallback
	if err := db.QueryRow(ctx, `SELECT id, verdict, order_id, fp_status, remote_addr, raw_query
		FROM callbacks ORDER BY id DESC LIMIT 1`).Scan(&c.id, &c.verdict, &c.orderID, &c.fpStatus, &c.remote, &c.raw); err != nil {
		t.Fatalf("reading the stored callback: %v", err)
	}
	rows, err := db.Query(ctx, `SELECT kind FROM river_job WHERE (args->>'callback_id')::bigint = $1 ORDER BY id`, c.id)
	if err != nil {
		t.Fatalf("reading the callback's jobs: %v", err)
	}
	c.jobKinds, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("reading the callback's jobs: %v", err)
	}
	return c
}

// Each verdict the handler can give, through real HTTP onto a real
// database and River: the HTTP status FP gets, the callbacks row stored
// (verdict, order id, FP's status) and the job inserted with it, with
// FP_CHECKSUM_KEY set and without. (not_confirmed is given later, by the
// confirm job, to an awaiting_fp callback FP contradicts: not here.)
func TestCallbackVerdicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	const ours, notOurs = int64(1), int64(424242)
	if _, err := pool.Exec(ctx, `INSERT INTO orders (id, kind, order_ref, batch_id, source, source_row, customer_name,
			grand_total_ore, order_data, fingerprint, status, fp_order_uuid)
		VALUES ($1, 'invoice', 'V-1', 1, 'v.csv', 2, 'Kari', 100, '{}', 'a', 'submitted', $2)`, ours, fpUUID); err != nil {
		t.Fatal(err)
	}
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{}) // inserts only
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()

	type want struct {
		status   int
		verdict  string
		orderID  int64 // 0: NULL
		fpStatus string
		job      string // "": none
	}
	cases := []struct {
		name   string
		key    string // the server's FP_CHECKSUM_KEY
		method string // "": GET
		query  func() string
		body   string // a POST's JSON body
		want   want
	}{
		{name: "accepted with key", key: testKey,
			query: func() string { return callbackParams(ours, testKey, now).Encode() },
			want:  want{http.StatusOK, store.VerdictAccepted, ours, "PAID", "apply_callback"}},
		{name: "awaiting_fp keyless",
			query: func() string { return callbackParams(ours, "", now).Encode() },
			want:  want{http.StatusOK, store.VerdictAwaitingFP, ours, "PAID", "confirm_callbacks"}},
		{name: "accepted by POST, FP's fields in a JSON body", key: testKey, method: http.MethodPost,
			query: func() string {
				q := callbackParams(ours, testKey, now)
				return url.Values{"ref": q["ref"], "token": q["token"]}.Encode()
			},
			body: `{"orderUuid":"` + fpUUID + `","status":"PAID","createdAt":` + strconv.FormatInt(now.Unix(), 10) +
				`,"checksum":"` + fpclient.Checksum(fpUUID, "PAID", strconv.FormatInt(now.Unix(), 10), testKey) + `"}`,
			want: want{http.StatusOK, store.VerdictAccepted, ours, "PAID", "apply_callback"}},
		{name: "orphan with key: authentic, order not ours", key: testKey,
			query: func() string { return callbackParams(notOurs, testKey, now).Encode() },
			want:  want{http.StatusOK, store.VerdictOrphan, 0, "PAID", ""}},
		{name: "orphan keyless",
			query: func() string { return callbackParams(notOurs, "", now).Encode() },
			want:  want{http.StatusOK, store.VerdictOrphan, 0, "PAID", ""}},
		{name: "bad_token with key", key: testKey,
			query: func() string {
				q := callbackParams(ours, testKey, now)
				q.Set("token", callbackurl.Token(testSecret, ours+1))
				return q.Encode()
			},
			want: want{http.StatusForbidden, store.VerdictBadToken, 0, "PAID", ""}},
		{name: "bad_token keyless: no token",
			query: func() string {
				q := callbackParams(ours, "", now)
				q.Del("token")
				return q.Encode()
			},
			want: want{http.StatusForbidden, store.VerdictBadToken, 0, "PAID", ""}},
		{name: "bad_token: a POST body cannot supply the token", key: testKey, method: http.MethodPost,
			query: func() string {
				q := callbackParams(ours, testKey, now)
				q.Del("token")
				return q.Encode()
			},
			body: `{"token":"` + callbackurl.Token(testSecret, ours) + `"}`,
			want: want{http.StatusForbidden, store.VerdictBadToken, 0, "PAID", ""}},
		{name: "bad_checksum with key: FP's keyless checksum", key: testKey,
			query: func() string { return callbackParams(ours, "", now).Encode() },
			want:  want{http.StatusForbidden, store.VerdictBadChecksum, ours, "PAID", ""}},
		{name: "bad_checksum keyless: the status changed after checksumming",
			query: func() string {
				q := callbackParams(ours, "", now)
				q.Set("status", "REFUNDED")
				return q.Encode()
			},
			want: want{http.StatusForbidden, store.VerdictBadChecksum, ours, "REFUNDED", ""}},
		{name: "future_created_at with key", key: testKey,
			query: func() string { return callbackParams(ours, testKey, now.Add(time.Hour)).Encode() },
			want:  want{http.StatusForbidden, store.VerdictFutureCreatedAt, ours, "PAID", ""}},
		{name: "future_created_at keyless",
			query: func() string { return callbackParams(ours, "", now.Add(time.Hour)).Encode() },
			want:  want{http.StatusForbidden, store.VerdictFutureCreatedAt, ours, "PAID", ""}},
		{name: "malformed: no status", key: testKey,
			query: func() string {
				q := callbackParams(ours, testKey, now)
				q.Del("status")
				return q.Encode()
			},
			want: want{http.StatusBadRequest, store.VerdictMalformed, 0, "", ""}},
		{name: "malformed keyless: no checksum",
			query: func() string {
				q := callbackParams(ours, "", now)
				q.Del("checksum")
				return q.Encode()
			},
			want: want{http.StatusBadRequest, store.VerdictMalformed, 0, "PAID", ""}},
		{name: "malformed: ref not a number", key: testKey,
			query: func() string {
				q := callbackParams(ours, testKey, now)
				q.Set("ref", "one")
				return q.Encode()
			},
			want: want{http.StatusBadRequest, store.VerdictMalformed, 0, "PAID", ""}},
		{name: "malformed: query that does not parse", key: testKey,
			query: func() string { return "ref=1&status=%zz" },
			want:  want{http.StatusBadRequest, store.VerdictMalformed, 0, "", ""}},
	}
	// One after the other on one database: each request stores exactly
	// one row, the newest.
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &Server{Pool: pool, River: rc, CallbackSecret: testSecret, ChecksumKey: c.key,
				Location: time.UTC, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			var before int64
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM callbacks`).Scan(&before); err != nil {
				t.Fatal(err)
			}
			method := c.method
			if method == "" {
				method = http.MethodGet
			}
			raw := c.query()
			req, err := http.NewRequest(method, srv.URL+callbackurl.Path+"?"+raw, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.want.status {
				t.Errorf("HTTP %d (%q), want %d", resp.StatusCode, strings.TrimSpace(string(body)), c.want.status)
			}

			var after int64
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM callbacks`).Scan(&after); err != nil {
				t.Fatal(err)
			}
			if after != before+1 {
				t.Fatalf("%d callbacks stored, want 1", after-before)
			}
			got := lastCallback(t, ctx, pool)
			if got.verdict != c.want.verdict {
				t.Errorf("verdict %q, want %q", got.verdict, c.want.verdict)
			}
			switch {
			case c.want.orderID == 0 && got.orderID != nil:
				t.Errorf("order_id %d, want NULL", *got.orderID)
			case c.want.orderID != 0 && (got.orderID == nil || *got.orderID != c.want.orderID):
				t.Errorf("order_id %v, want %d", got.orderID, c.want.orderID)
			}
			if got.fpStatus != c.want.fpStatus {
				t.Errorf("fp_status %q, want %q", got.fpStatus, c.want.fpStatus)
			}
			if got.remote != "127.0.0.1" {
				t.Errorf("remote_addr %q, want 127.0.0.1", got.remote)
			}
			wantRaw := strings.ReplaceAll(raw, "?", "&")
			if c.method == http.MethodPost {
				wantRaw += "&" + c.body
			}
			if got.raw != wantRaw {
				t.Errorf("raw_query %q, want %q", got.raw, wantRaw)
			}
			var wantJobs []string
			if c.want.job != "" {
				wantJobs = []string{c.want.job}
			}
			if strings.Join(got.jobKinds, ",") != strings.Join(wantJobs, ",") {
				t.Errorf("jobs %v, want %v", got.jobKinds, wantJobs)
			}
		})
	}
}
