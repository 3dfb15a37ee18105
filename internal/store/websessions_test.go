package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// Failed-login counts: they grow, start again after a quiet spell, a lock
// never shortens, and the longest lock of the keys asked for is the one
// reported.
func TestLoginFailureCounts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	forget := func(now time.Time) time.Time { return now.Add(-24 * time.Hour) }
	for i, at := range []time.Time{t0, t0.Add(time.Minute), t0.Add(2 * time.Minute)} {
		n, err := store.RecordLoginFailure(ctx, pool, "user:anna", at, forget(at))
		if err != nil || n != i+1 {
			t.Fatalf("failure %d: got %d, %v", i+1, n, err)
		}
	}
	later := t0.Add(25 * time.Hour)
	if n, err := store.RecordLoginFailure(ctx, pool, "user:anna", later, forget(later)); err != nil || n != 1 {
		t.Errorf("failure after a quiet day: got %d, %v; want 1", n, err)
	}
	if _, err := store.RecordLoginFailure(ctx, pool, "addr:192.0.2.1", later, forget(later)); err != nil {
		t.Fatal(err)
	}
	if err := store.LockLogin(ctx, pool, "user:anna", later.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := store.LockLogin(ctx, pool, "user:anna", later.Add(time.Second)); err != nil { // shorter: ignored
		t.Fatal(err)
	}
	if err := store.LockLogin(ctx, pool, "addr:192.0.2.1", later.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	key, n, until, err := store.LoginLock(ctx, pool, []string{"addr:192.0.2.1", "user:anna"}, later)
	if err != nil || key != "user:anna" || n != 1 || !until.Equal(later.Add(time.Minute)) {
		t.Errorf("lock: %s %d %v %v; want user:anna until a minute later", key, n, until, err)
	}
	if key, _, until, _ := store.LoginLock(ctx, pool, []string{"addr:192.0.2.1", "user:anna"}, later.Add(time.Minute)); key != "" || !until.IsZero() {
		t.Errorf("after the lock: %s until %v, want none", key, until)
	}
	if err := store.ClearLoginFailures(ctx, pool, "user:anna"); err != nil {
		t.Fatal(err)
	}
	if key, _, _, _ := store.LoginLock(ctx, pool, []string{"user:anna"}, later); key != "" {
		t.Errorf("lock after clearing: %s", key)
	}
}

// Revoking a user's sessions spares those of the password kept.
func TestRevokeUserWebSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	now := time.Now()
	for i, s := range []store.WebSession{
		{IDHash: []byte("a"), User: "anna", PasswordFP: "old"},
		{IDHash: []byte("b"), User: "anna", PasswordFP: "new"},
		{IDHash: []byte("c"), User: "per", PasswordFP: "old"},
	} {
		s.CreatedAt, s.ExpiresAt = now, now.Add(time.Hour)
		if err := store.CreateWebSession(ctx, pool, s); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}
	if n, err := store.RevokeUserWebSessions(ctx, pool, "anna", "new", now, "password changed"); err != nil || n != 1 {
		t.Fatalf("revoked %d, %v; want 1", n, err)
	}
	for id, revoked := range map[string]bool{"a": true, "b": false, "c": false} {
		s, found, err := store.WebSessionByID(ctx, pool, []byte(id))
		if err != nil || !found || (s.RevokedAt != nil) != revoked {
			t.Errorf("session %s: found %v, revoked %v, %v; want revoked %v", id, found, s.RevokedAt, err, revoked)
		}
	}
}
