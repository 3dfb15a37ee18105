package store_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/report"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// Only accepted and orphan callbacks, and keyless ones awaiting FP's word,
// are not untrusted; any other verdict, one added later included, is.
func TestUntrustedVerdicts(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		store.VerdictAccepted: false, store.VerdictOrphan: false, store.VerdictAwaitingFP: false,
		store.VerdictBadToken: true, store.VerdictBadChecksum: true, store.VerdictMalformed: true,
		store.VerdictNotConfirmed: true, store.VerdictFutureCreatedAt: true, "": true,
	} {
		if got := store.Untrusted(v); got != want {
			t.Errorf("Untrusted(%q) = %v, want %v", v, got, want)
		}
	}
}

// CallbackSource and the SQL function callback_source agree: IPv6 by /64.
func TestCallbackSource(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	for addr, want := range map[string]string{
		"203.0.113.7":             "203.0.113.7",
		"::ffff:203.0.113.7":      "203.0.113.7",
		"2001:db8:1:2:3:4:5:6":    "2001:db8:1:2::/64",
		"2001:db8:1:2::ffff":      "2001:db8:1:2::/64",
		"2001:db8:0:0:1::1":       "2001:db8::/64",
		"fe80::1%eth0":            "fe80::/64",
		"":                        "",
		"not-an-address":          "not-an-address",
		"2001:db8:aaaa:bbbb:cc::": "2001:db8:aaaa:bbbb::/64",
	} {
		if got := store.CallbackSource(addr); got != want {
			t.Errorf("CallbackSource(%q) = %q, want %q", addr, got, want)
		}
		if strings.Contains(addr, "%") || strings.HasPrefix(addr, "::ffff:") {
			continue // PostgreSQL's inet has no zones; mapped addresses never come from Go's RemoteAddr
		}
		var sql string
		if err := pool.QueryRow(context.Background(), `SELECT callback_source($1)`, addr).Scan(&sql); err != nil {
			t.Fatal(err)
		}
		if sql != want {
			t.Errorf("callback_source(%q) = %q, want %q", addr, sql, want)
		}
	}
}

// However many sources and verdicts, the report shows at most
// MaxUntrustedLines lines of untrusted callbacks, the largest first and the
// rest summed into the last, and the counts add up to every callback,
// stored or not; the view agrees.
func TestUntrustedReportLinesBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	const sources = 120
	// Each source: 2 stored bad_token rows; source i also has i counted
	// (not stored) bad_checksum ones this hour.
	if _, err := pool.Exec(ctx, `INSERT INTO callbacks (remote_addr, raw_query, verdict)
		SELECT '198.51.100.' || s, 'token=SECRETTOKEN', 'bad_token' FROM generate_series(1, $1) s, generate_series(1, 2)`, sources); err != nil {
		t.Fatal(err)
	}
	var counts []store.UntrustedCount
	hour := time.Now().Truncate(time.Hour)
	var total int64 = 2 * sources
	for i := 1; i <= sources; i++ {
		counts = append(counts, store.UntrustedCount{Hour: hour, Source: fmt.Sprintf("198.51.100.%d", i), Verdict: "bad_checksum",
			Reason: store.NotStoredSourceCap, Count: int64(i)})
		total += int64(i)
	}
	// Added twice: the second adds to the first.
	if err := store.AddUntrustedCounts(ctx, pool, counts[:10]); err != nil {
		t.Fatal(err)
	}
	if err := store.AddUntrustedCounts(ctx, pool, counts); err != nil {
		t.Fatal(err)
	}
	for _, c := range counts[:10] {
		total += c.Count
	}
	// Trusted ones are not part of it.
	if _, err := pool.Exec(ctx, `INSERT INTO callbacks (remote_addr, raw_query, verdict) VALUES ('192.0.2.1', 'x', 'accepted'), ('192.0.2.1', 'x', 'orphan')`); err != nil {
		t.Fatal(err)
	}

	var viewTotal int64
	if err := pool.QueryRow(ctx, `SELECT sum(stored + not_stored) FROM reconciliation_untrusted_callbacks`).Scan(&viewTotal); err != nil {
		t.Fatal(err)
	}
	if viewTotal != total {
		t.Errorf("view: %d untrusted callbacks, want %d", viewTotal, total)
	}

	now := time.Now()
	oslo, _ := time.LoadLocation("Europe/Oslo")
	today := now.In(oslo).Format(time.DateOnly)
	rep, err := store.LoadReport(ctx, pool, today, today, now, 0)
	if err != nil {
		t.Fatal(err)
	}
	var lines []report.Exception
	for _, e := range rep.Other {
		if e.Type == report.ExceptionUntrustedCallback {
			lines = append(lines, e)
		}
	}
	if len(lines) != store.MaxUntrustedLines {
		t.Fatalf("%d untrusted lines, want %d", len(lines), store.MaxUntrustedLines)
	}
	// The largest first: source 120 had 120 counted bad_checksum ones.
	if lines[0].Source != "198.51.100.120" || !strings.HasPrefix(lines[0].Detail, "bad_checksum: 120 callbacks, 0 stored, 120 not stored") {
		t.Errorf("first line = %+v", lines[0])
	}
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last.Source, "(") || !strings.Contains(last.Source, "other sources") || !strings.Contains(last.Detail, "lines summed") {
		t.Errorf("last line does not sum the others: %+v", last)
	}
	num := regexp.MustCompile(`: (\d+) callbacks`)
	var sum int64
	for _, e := range lines {
		m := num.FindStringSubmatch(e.Detail)
		if m == nil {
			t.Fatalf("no count in %q", e.Detail)
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		sum += n
	}
	if sum != total {
		t.Errorf("lines count %d callbacks, want %d", sum, total)
	}

	// Every rendering stays small and holds no token.
	for _, format := range report.Formats {
		var buf bytes.Buffer
		if err := report.Write(&buf, rep, format); err != nil {
			t.Fatal(format, err)
		}
		if bytes.Contains(buf.Bytes(), []byte("SECRETTOKEN")) {
			t.Errorf("%s report holds a token", format)
		}
		if format == "json" {
			if n := bytes.Count(buf.Bytes(), []byte(`"type":"untrusted_callback"`)); n != store.MaxUntrustedLines {
				t.Errorf("json: %d untrusted_callback exceptions, want %d", n, store.MaxUntrustedLines)
			}
		}
	}
}

// PruneUntrusted deletes untrusted callbacks and counts older than the
// cutoff, and nothing else.
func TestPruneUntrusted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	if _, err := pool.Exec(ctx, `INSERT INTO callbacks (received_at, remote_addr, raw_query, verdict)
		SELECT now() - age * interval '1 hour', '198.51.100.1', 'x', v
		FROM unnest(ARRAY[3, 3, 3, 3, 1, 1]) WITH ORDINALITY AS a(age, i),
			LATERAL (SELECT (ARRAY['bad_token', 'accepted', 'orphan', 'not_confirmed', 'bad_token', 'malformed'])[i] AS v) x`); err != nil {
		t.Fatal(err)
	}
	old, recent := time.Now().Add(-3*time.Hour).Truncate(time.Hour), time.Now().Truncate(time.Hour)
	if err := store.AddUntrustedCounts(ctx, pool, []store.UntrustedCount{
		{Hour: old, Source: "a", Verdict: "bad_token", Reason: store.NotStoredRateLimited, Count: 5},
		{Hour: recent, Source: "a", Verdict: "bad_token", Reason: store.NotStoredRateLimited, Count: 7},
	}); err != nil {
		t.Fatal(err)
	}
	rows, counts, err := store.PruneUntrusted(ctx, pool, time.Now().Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rows != 2 || counts != 1 {
		t.Errorf("pruned %d callbacks and %d counts, want 2 and 1", rows, counts)
	}
	var left string
	if err := pool.QueryRow(ctx, `SELECT string_agg(verdict, ',' ORDER BY id) FROM callbacks`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != "accepted,orphan,bad_token,malformed" {
		t.Errorf("callbacks left: %s", left)
	}
	var n int64
	if err := pool.QueryRow(ctx, `SELECT sum(count) FROM untrusted_callback_counts`).Scan(&n); err != nil || n != 7 {
		t.Errorf("counts left: %d, %v; want 7", n, err)
	}
}
