package daemon_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/httpapi"
	"github.com/frontpayment/fpexport/internal/logging"
)

// A database error shown on /readyz and in the log is one line, without the
// password, and cut to a sane length on a character boundary.
func TestRedactDBError(t *testing.T) {
	t.Parallel()
	err := errors.New("failed to connect:\n\tpassword pw-Secret-1 rejected!\n\t" + strings.Repeat("ø", 400))
	got := daemon.RedactDBError(err, "pw-Secret-1")
	if strings.Contains(got, "pw-Secret-1") || strings.ContainsAny(got, "\n\t") || len(got) > daemon.DBWaitMaxLine+len("…") ||
		!utf8.ValidString(got) || !strings.HasPrefix(got, "failed to connect: password ******** rejected! ø") {
		t.Errorf("redactDBError: %q", got)
	}
}

// Waiting is logged at the first attempt and then at most every
// daemon.DBWaitLogGap, however many attempts the backoff makes meanwhile (1, 2,
// 4, 8 s: four attempts in the first 12 s, one line).
func TestDatabaseWaitLogsSparingly(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(context.Background(), "postgres://root@"+daemontest.FreeAddr(t)+"/nothing?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	logs := &daemontest.LockedBuffer{}
	gate := httpapi.NewStarting()
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
	defer cancel()
	start := time.Now()
	err = daemon.WaitForDatabase(ctx, pool, logging.New("json", logs), gate)
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waitForDatabase: %v, want it to wait until told to stop", err)
	}
	lines := strings.Count(logs.String(), "database not reachable yet")
	if maxLines := 1 + int(elapsed/daemon.DBWaitLogGap); lines < 1 || lines > maxLines {
		t.Errorf("%d waiting lines in %s, want 1 to %d:\n%s", lines, elapsed, maxLines, logs.String())
	}
	if gate.IsOpen() {
		t.Error("the gate opened without a database")
	}
}
