package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/httpapi"
	"github.com/frontpayment/fpexport/internal/store"
)

// Waiting for the database at start. At boot PostgreSQL may come up after
// the worker (or be restarting): exiting then would leave the worker to
// systemd's restart limits, and a database slower than those leaves it
// stopped. So `worker run` opens its doors at once (live, not ready) and
// tries the database with a backoff until it answers. What waiting cannot
// fix still ends the process at once, with exit code 1: a refused login or
// role (SQLSTATE class 28), a database that does not exist (3D000), or a
// schema older than this binary (`worker migrate` first).
const (
	dbWaitFirst   = time.Second
	dbWaitMax     = 10 * time.Second
	dbWaitLogGap  = 10 * time.Second // at most one log line per this while waiting
	dbTryTimeout  = 10 * time.Second // one attempt, so a silent network cannot hang it
	dbWaitMaxLine = 300              // a reason shown on /readyz is cut to this
)

// errNotTransient marks a database error that waiting will not fix.
type errNotTransient struct{ err error }

func (e errNotTransient) Error() string { return e.err.Error() }
func (e errNotTransient) Unwrap() error { return e.err }

// waitForDatabase returns once the database answers with a current schema,
// the error that waiting cannot fix, or ctx's error when the worker is told
// to stop meanwhile. gate shows why it is not ready yet.
func waitForDatabase(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger, gate *httpapi.Starting) error {
	password := pool.Config().ConnConfig.Password
	delay := dbWaitFirst
	var lastLog time.Time
	for attempt := 1; ; attempt++ {
		err := checkDatabase(ctx, pool)
		if err == nil {
			if attempt > 1 {
				logger.Info("database reachable", "attempts", attempt)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		shown := redactDBError(err, password)
		if errors.As(err, new(errNotTransient)) {
			return errors.New(shown)
		}
		gate.SetReason("database unreachable: " + shown)
		if lastLog.IsZero() || time.Since(lastLog) >= dbWaitLogGap {
			logger.Warn("database not reachable yet; waiting for it (HTTP is up, /readyz says 503 until then)",
				"attempt", attempt, "retry_in", delay.String(), "error", shown)
			lastLog = time.Now()
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, dbWaitMax)
	}
}

// checkDatabase makes one attempt: connect, and compare the schema.
func checkDatabase(ctx context.Context, pool *pgxpool.Pool) error {
	ctx, cancel := context.WithTimeout(ctx, dbTryTimeout)
	defer cancel()
	if err := pool.Ping(ctx); err != nil {
		err = fmt.Errorf("connecting to the database: %w", err)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "28") || pgErr.Code == "3D000") {
			return errNotTransient{err}
		}
		return err
	}
	pending, err := store.PendingMigrations(ctx, pool)
	if err != nil {
		return fmt.Errorf("reading the database schema: %w", err)
	}
	if len(pending) > 0 {
		return errNotTransient{fmt.Errorf("database schema is not current (pending %v): run `worker migrate` first", pending)}
	}
	return nil
}

// redactDBError is err's text on one line, without the password (pgx does
// not print it, but a message quoting the connection string would), and
// cut to a length a health answer can carry.
func redactDBError(err error, password string) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(password) >= 4 {
		s = strings.ReplaceAll(s, password, "********")
	}
	if len(s) > dbWaitMaxLine {
		cut := dbWaitMaxLine
		for cut > 0 && !utf8.RuneStart(s[cut]) { // not inside a character
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
