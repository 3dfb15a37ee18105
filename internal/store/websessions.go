package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// WebSession is one login to the accountants' web page (table
// web_sessions). IDHash is the SHA-256 of the random id the cookie
// carries; the id itself is never stored.
type WebSession struct {
	IDHash     []byte
	User       string
	PasswordFP string // fingerprint of the user's password hash at login
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeen   time.Time
	RevokedAt  *time.Time
}

// CreateWebSession records a new login.
func CreateWebSession(ctx context.Context, db DB, s WebSession) error {
	_, err := db.Exec(ctx, `INSERT INTO web_sessions (id_hash, user_name, password_fp, created_at, expires_at, last_seen)
		VALUES ($1, $2, $3, $4, $5, $4)`, s.IDHash, s.User, s.PasswordFP, s.CreatedAt, s.ExpiresAt)
	if err != nil {
		return fmt.Errorf("recording a web session: %w", err)
	}
	return nil
}

// WebSessionByID reads a session; found is false when there is no such row
// (never created, or deleted after it expired).
func WebSessionByID(ctx context.Context, db DB, idHash []byte) (s WebSession, found bool, err error) {
	err = db.QueryRow(ctx, `SELECT id_hash, user_name, password_fp, created_at, expires_at, last_seen, revoked_at
		FROM web_sessions WHERE id_hash = $1`, idHash).
		Scan(&s.IDHash, &s.User, &s.PasswordFP, &s.CreatedAt, &s.ExpiresAt, &s.LastSeen, &s.RevokedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return WebSession{}, false, nil
	}
	if err != nil {
		return WebSession{}, false, fmt.Errorf("reading a web session: %w", err)
	}
	return s, true, nil
}

// TouchWebSession records that the session was used at at.
func TouchWebSession(ctx context.Context, db DB, idHash []byte, at time.Time) error {
	if _, err := db.Exec(ctx, `UPDATE web_sessions SET last_seen = $2 WHERE id_hash = $1 AND last_seen < $2`, idHash, at); err != nil {
		return fmt.Errorf("touching a web session: %w", err)
	}
	return nil
}

// RevokeWebSession ends one session (logout). Revoking a revoked session
// keeps its first time and reason.
func RevokeWebSession(ctx context.Context, db DB, idHash []byte, at time.Time, why string) error {
	_, err := db.Exec(ctx, `UPDATE web_sessions SET revoked_at = $2, revoked_why = $3
		WHERE id_hash = $1 AND revoked_at IS NULL`, idHash, at, why)
	if err != nil {
		return fmt.Errorf("revoking a web session: %w", err)
	}
	return nil
}

// RevokeUserWebSessions ends the live sessions of user whose password
// fingerprint is not keepFP ("": all of them) and says how many it ended.
func RevokeUserWebSessions(ctx context.Context, db DB, user, keepFP string, at time.Time, why string) (int64, error) {
	tag, err := db.Exec(ctx, `UPDATE web_sessions SET revoked_at = $3, revoked_why = $4
		WHERE user_name = $1 AND revoked_at IS NULL AND password_fp <> $2`, user, keepFP, at, why)
	if err != nil {
		return 0, fmt.Errorf("revoking the web sessions of %s: %w", user, err)
	}
	return tag.RowsAffected(), nil
}

// DeleteWebSessionsBefore removes sessions that expired before t: an
// expired session is refused by its expiry alone, its row is kept a while
// only to say why a cookie stopped working.
func DeleteWebSessionsBefore(ctx context.Context, db DB, t time.Time) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM web_sessions WHERE expires_at < $1`, t)
	if err != nil {
		return 0, fmt.Errorf("removing expired web sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// LoginLock is the longest lock on any of keys (web_login_failures):
// until is zero when none is locked at now.
func LoginLock(ctx context.Context, db DB, keys []string, now time.Time) (key string, failures int, until time.Time, err error) {
	err = db.QueryRow(ctx, `SELECT key, failures, locked_until FROM web_login_failures
		WHERE key = ANY($1) AND locked_until > $2 ORDER BY locked_until DESC LIMIT 1`, keys, now).Scan(&key, &failures, &until)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, time.Time{}, nil
	}
	if err != nil {
		return "", 0, time.Time{}, fmt.Errorf("reading login locks: %w", err)
	}
	return key, failures, until, nil
}

// RecordLoginFailure counts one failed login against key at now and
// returns the count. A count whose last failure is before forgetBefore
// starts again at 1.
func RecordLoginFailure(ctx context.Context, db DB, key string, now, forgetBefore time.Time) (int, error) {
	var n int
	err := db.QueryRow(ctx, `INSERT INTO web_login_failures AS f (key, failures, last_failure) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN f.last_failure < $3 THEN 1 ELSE f.failures + 1 END,
			last_failure = GREATEST(f.last_failure, $2)
		RETURNING failures`, key, now, forgetBefore).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting a failed login: %w", err)
	}
	return n, nil
}

// LockLogin locks key until until; a longer lock already there stays.
func LockLogin(ctx context.Context, db DB, key string, until time.Time) error {
	_, err := db.Exec(ctx, `UPDATE web_login_failures SET locked_until = GREATEST(locked_until, $2) WHERE key = $1`, key, until)
	if err != nil {
		return fmt.Errorf("locking logins: %w", err)
	}
	return nil
}

// ClearLoginFailures forgets key's failures (a successful login).
func ClearLoginFailures(ctx context.Context, db DB, key string) error {
	if _, err := db.Exec(ctx, `DELETE FROM web_login_failures WHERE key = $1`, key); err != nil {
		return fmt.Errorf("clearing failed logins: %w", err)
	}
	return nil
}

// DeleteLoginFailuresBefore forgets the counts whose last failure is
// before t and whose lock has ended by then, so names guessed once do not
// pile up.
func DeleteLoginFailuresBefore(ctx context.Context, db DB, t time.Time) error {
	_, err := db.Exec(ctx, `DELETE FROM web_login_failures WHERE last_failure < $1 AND (locked_until IS NULL OR locked_until < $1)`, t)
	if err != nil {
		return fmt.Errorf("removing old failed logins: %w", err)
	}
	return nil
}
