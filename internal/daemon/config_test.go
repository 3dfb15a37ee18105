package daemon_test

import (
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
)

// REPORT_TOKENS and ADMIN_LISTEN_ADDR are checked at start, one line each,
// and no line shows a token.
func TestDoorsConfig(t *testing.T) {
	t.Parallel()
	const short = "only-31-characters-long-0123456"
	_, err := daemon.LoadConfig(daemontest.Env(map[string]string{"REPORT_TOKENS": daemontest.ReportToken + "," + short, "ADMIN_LISTEN_ADDR": "8081"}), daemon.Need{Web: true})
	if err == nil {
		t.Fatal("bad REPORT_TOKENS and ADMIN_LISTEN_ADDR taken")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ADMIN_LISTEN_ADDR:") || !strings.HasPrefix(lines[1], "REPORT_TOKENS: entry 2 ") {
		t.Errorf("want one ADMIN_LISTEN_ADDR line and one REPORT_TOKENS line naming entry 2:\n%s", err)
	}
	if strings.Contains(err.Error(), short) || strings.Contains(err.Error(), daemontest.ReportToken) {
		t.Errorf("the error shows a token: %s", err)
	}
	if _, err := daemon.LoadConfig(daemontest.Env(map[string]string{"LISTEN_ADDR": ":8080", "ADMIN_LISTEN_ADDR": ":8080"}), daemon.Need{Web: true}); err == nil ||
		!strings.Contains(err.Error(), "ADMIN_LISTEN_ADDR: must differ") {
		t.Errorf("ADMIN_LISTEN_ADDR = LISTEN_ADDR: %v", err)
	}
	cfg, err := daemon.LoadConfig(daemontest.Env(map[string]string{"REPORT_TOKENS": " " + daemontest.ReportToken + " ,, ", "ADMIN_LISTEN_ADDR": "127.0.0.1:8081"}), daemon.Need{Web: true})
	if err != nil || cfg.ReportTokens.Len() != 1 || cfg.AdminListenAddr != "127.0.0.1:8081" {
		t.Errorf("good settings: %v, %d tokens, admin %q", err, cfg.ReportTokens.Len(), cfg.AdminListenAddr)
	}
}

// HOLD_ANSWERS_GRACE: 45 s unless set; out of range is named.
func TestConfigHoldAnswersGrace(t *testing.T) {
	t.Parallel()
	c, err := daemon.LoadConfig(daemontest.Env(nil), daemon.Need{})
	if err != nil || c.HoldGrace != 45*time.Second {
		t.Fatalf("default: %v, %v; want 45s", c.HoldGrace, err)
	}
	c, err = daemon.LoadConfig(daemontest.Env(map[string]string{"HOLD_ANSWERS_GRACE": "2m"}), daemon.Need{})
	if err != nil || c.HoldGrace != 2*time.Minute {
		t.Fatalf("2m: %v, %v", c.HoldGrace, err)
	}
	for _, bad := range []string{"1s", "soon", "2h"} {
		_, err = daemon.LoadConfig(daemontest.Env(map[string]string{"HOLD_ANSWERS_GRACE": bad}), daemon.Need{})
		if err == nil || !strings.HasPrefix(err.Error(), "HOLD_ANSWERS_GRACE: must be") {
			t.Errorf("%q: %v, want the HOLD_ANSWERS_GRACE line", bad, err)
		}
	}
}
