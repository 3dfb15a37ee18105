package store_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/report"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// The report's exceptions list untrusted callbacks (without their token or
// checksum), overdue payment links and orders FP has not called back about.
func TestLoadReportOtherExceptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	link := func(ref, status, due string) int64 {
		id := addOrder(t, pool, "payment-link", ref, status, "", "")
		exec(`UPDATE orders SET order_data = json_build_object('due_date', $2::text) WHERE id = $1`, id, due)
		return id
	}
	link("PL-OVERDUE", "sent", "2020-01-01")
	link("PL-PAID", "paid", "2020-01-01")
	link("PL-CANCELLED", "cancelled", "2020-01-01")
	link("PL-FUTURE", "sent", "2999-12-31")
	link("PL-NODATE", "sent", "")

	submitted := func(ref, status string, ago time.Duration) int64 {
		id := addOrder(t, pool, "invoice", ref, status, "uuid-"+ref, "")
		exec(`UPDATE orders SET submitted_at = now() - $2 * interval '1 second' WHERE id = $1`, id, ago.Seconds())
		return id
	}
	submitted("S-STALE", "sent", 4*24*time.Hour)
	heard := submitted("S-HEARD", "sent", 4*24*time.Hour)
	submitted("S-RECENT", "sent", 24*time.Hour)
	submitted("S-PAID", "paid", 4*24*time.Hour)
	submitted("S-REJECTED", "provider_rejected", 4*24*time.Hour)

	const token, checksum = "tok3nSECRETvalue", "c0ffeeCHECKSUMvalue"
	raw := "ref=" + "999" + "&token=" + token + "&orderUuid=x&status=PAID&createdAt=1&checksum=" + checksum
	for _, c := range []store.CallbackIn{
		{RemoteAddr: "203.0.113.7", RawQuery: raw, FPOrderUUID: "x", FPStatus: "PAID", CreatedAt: "1", Verdict: store.VerdictBadToken},
		{RemoteAddr: "198.51.100.2", RawQuery: raw, OrderID: heard, FPOrderUUID: "x", FPStatus: "PAID", CreatedAt: "1", Verdict: store.VerdictBadChecksum},
		{RemoteAddr: "192.0.2.1", RawQuery: raw, OrderID: heard, FPOrderUUID: "uuid-S-HEARD", FPStatus: "SENT", CreatedAt: "1", Verdict: store.VerdictAccepted},
		// Authentic, for an order we do not have.
		{RemoteAddr: "192.0.2.44", RawQuery: raw, FPOrderUUID: "ODR-ORPHAN", FPStatus: "PAID", CreatedAt: "1", Verdict: store.VerdictOrphan},
	} {
		if _, err := store.SaveCallback(ctx, pool, c); err != nil {
			t.Fatal(err)
		}
	}
	// An untrusted callback of another period is not listed.
	exec(`INSERT INTO callbacks (received_at, remote_addr, raw_query, verdict) VALUES (now() - interval '10 days', '10.0.0.9', 'x', 'malformed')`)

	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	today := now.In(oslo).Format(time.DateOnly)
	rep, err := store.LoadReport(ctx, pool, today, today, now, 72*time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	byType := map[string][]report.Exception{}
	exceptions, err := rep.Exceptions()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exceptions {
		byType[e.Type] = append(byType[e.Type], e)
	}
	refs := func(typ string) (out []string) {
		for _, e := range byType[typ] {
			out = append(out, e.OrderRef)
		}
		return out
	}
	if got := refs(report.ExceptionPaymentLinkOverdue); len(got) != 1 || got[0] != "PL-OVERDUE" {
		t.Errorf("payment_link_overdue = %v, want [PL-OVERDUE]", got)
	}
	if got := refs(report.ExceptionNoCallback); len(got) != 1 || got[0] != "S-STALE" {
		t.Errorf("no_callback = %v, want [S-STALE]", got)
	}
	// Untrusted callbacks are counted per source and verdict (one each
	// here), sorted by source when the counts tie.
	cbs := byType[report.ExceptionUntrustedCallback]
	if len(cbs) != 2 {
		t.Fatalf("untrusted_callback = %+v, want 2", cbs)
	}
	if e := cbs[0]; e.Source != "198.51.100.2" || !strings.HasPrefix(e.Detail, "bad_checksum: 1 callbacks, 1 stored, 0 not stored") ||
		!strings.Contains(e.Detail, "first "+today) {
		t.Errorf("bad checksum callback = %+v", e)
	}
	if e := cbs[1]; e.Source != "203.0.113.7" || !strings.HasPrefix(e.Detail, "bad_token: 1 callbacks, 1 stored") || e.OrderRef != "" {
		t.Errorf("forged callback = %+v", e)
	}
	orphans := byType[report.ExceptionOrphanCallback]
	if len(orphans) != 1 || orphans[0].Source != "192.0.2.44" || !strings.HasPrefix(orphans[0].Detail, "orphan: received "+today) ||
		!strings.Contains(orphans[0].Detail, `orderUuid "ODR-ORPHAN", status "PAID"`) {
		t.Errorf("orphan_callback = %+v", orphans)
	}
	for _, e := range append(cbs, orphans...) {
		if s := e.Source + e.Detail + e.OrderRef; strings.Contains(s, token) || strings.Contains(s, checksum) {
			t.Errorf("exception carries a secret: %+v", e)
		}
	}

	// Every rendering lists them, counts them per type (XLSX Summary), and
	// never shows the token or checksum.
	for _, format := range report.Formats {
		var buf bytes.Buffer
		if err := report.Write(&buf, rep, format); err != nil {
			t.Fatal(format, err)
		}
		if b := buf.Bytes(); bytes.Contains(b, []byte(token)) || bytes.Contains(b, []byte(checksum)) {
			t.Errorf("%s report carries a callback secret", format)
		}
		if format == "json" {
			for _, typ := range []string{report.ExceptionUntrustedCallback, report.ExceptionPaymentLinkOverdue, report.ExceptionNoCallback,
				report.ExceptionOrphanCallback} {
				if !bytes.Contains(buf.Bytes(), []byte(`"`+typ+`"`)) {
					t.Errorf("json report lacks %s", typ)
				}
			}
		}
	}
}
