package daemon_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

// REPORT_LANG is the report endpoint's language when the request names
// none; lang= still chooses, and an unknown one is refused.
func TestReportEndpointFollowsReportLang(t *testing.T) {
	t.Parallel()
	s := startStackWith(t, fpfake.Config{}, func(c *daemon.Config) { c.ReportLang = "en" })
	header := func(query string) (int, string) {
		t.Helper()
		resp := daemontest.GetReport(t, s.Cfg.CallbackBaseURL+"/reports/reconciliation?format=csv"+query)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(string(b), "\ufeff"), "\n")
		return resp.StatusCode, first
	}
	if code, h := header(""); code != http.StatusOK || !strings.Contains(h, "Order ref") {
		t.Errorf("REPORT_LANG=en, no lang=: %d %q; want English labels", code, h)
	}
	if code, h := header("&lang=nb"); code != http.StatusOK || !strings.Contains(h, "Ordrereferanse") {
		t.Errorf("REPORT_LANG=en, lang=nb: %d %q; want Norwegian labels", code, h)
	}
	if code, _ := header("&lang=de"); code != http.StatusBadRequest {
		t.Errorf("lang=de: %d, want 400", code)
	}
}
