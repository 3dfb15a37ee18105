package daemon_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/frontpayment/fpexport/internal/fpfake"
)

// getJSON GETs a path of the worker and decodes its JSON answer.
func (s *stack) getJSON(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get("http://" + s.Cfg.ListenAddr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return resp.StatusCode, body
}

// /healthz is 200 while the process serves; /readyz is 200 only with the
// schema current, and 503 naming the pending migration otherwise. (The
// paused token is TestFaultAuthPausesSubmitting's.)
func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfake.Config{Plan: fpfake.NoCallbacks})
	if code, body := s.getJSON(t, "/healthz"); code != 200 || body["status"] != "ok" {
		t.Errorf("healthz: %d %v", code, body)
	}
	if code, body := s.getJSON(t, "/readyz"); code != 200 || body["status"] != "ok" {
		t.Errorf("readyz: %d %v", code, body)
	}

	// As if the binary were newer than the database: its last migration
	// is not recorded.
	ctx := context.Background()
	var last int
	var name string
	if err := s.Pool.QueryRow(ctx, `DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)
		RETURNING version, name`).Scan(&last, &name); err != nil {
		t.Fatal(err)
	}
	code, body := s.getJSON(t, "/readyz")
	if reason, _ := body["reason"].(string); code != http.StatusServiceUnavailable || body["status"] != "not ready" ||
		!strings.Contains(reason, "pending") || !strings.Contains(reason, "worker migrate") {
		t.Errorf("readyz with a pending migration: %d %v", code, body)
	}
	if code, _ := s.getJSON(t, "/healthz"); code != 200 {
		t.Errorf("healthz with a pending migration: %d, want 200 (the process is up)", code)
	}
	if _, err := s.Pool.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, last, name); err != nil {
		t.Fatal(err)
	}
	if code, body := s.getJSON(t, "/readyz"); code != 200 {
		t.Errorf("readyz after the migration is back: %d %v", code, body)
	}
}
