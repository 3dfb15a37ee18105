package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/testdb"
)

var envOf = daemontest.Env

// `worker run` names every missing or malformed setting, one line each, and
// never echoes a secret.
func TestRunRefusesBadConfig(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"run"}, envOf(map[string]string{
		"CALLBACK_SECRET": "short-secret", "FP_BASE_URL": "ftp://x", "FP_RATE_LIMIT": "fast",
	}), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil {
		t.Fatal("run started without configuration")
	}
	lines := strings.Split(err.Error(), "\n")
	for _, want := range []string{"CALLBACK_BASE_URL: required", "CALLBACK_SECRET: must be at least 16", "FAILURE_URL: required",
		"FP_BASE_URL: must be", "FP_RATE_LIMIT: must be", "FP_TOKEN: required", "SUCCESS_URL: required"} {
		found := false
		for _, l := range lines {
			found = found || strings.HasPrefix(l, want)
		}
		if !found {
			t.Errorf("no line %q in:\n%s", want, err)
		}
	}
	if strings.Contains(err.Error(), "short-secret") {
		t.Error("the secret is in the error")
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	for _, args := range [][]string{nil, {"frobnicate"}, {"report", "--format", "pdf"}} {
		if err := run(context.Background(), args, envOf(nil), &bytes.Buffer{}, &stderr); exitCode(err) != 2 {
			t.Errorf("%v: exit %d, want 2", args, exitCode(err))
		}
	}
}

// `worker report` writes the three formats from the same rows.
func TestReportCommand(t *testing.T) {
	t.Parallel()
	s := startStack(t, fpfakeNoCallbacks())
	start := time.Now()
	s.importCSV(t, "orders.csv", e2eFile)
	s.waitSettled(t, start, false)
	url := testdbURL(s)
	dir := t.TempDir()
	today := time.Now().In(s.cfg.Location).Format(time.DateOnly)
	for _, format := range []string{"json", "csv", "xlsx"} {
		out := filepath.Join(dir, "r."+format)
		err := run(context.Background(), []string{"report", "--from", today, "--format", format, "--out", out},
			envOf(map[string]string{"DATABASE_URL": url}), &bytes.Buffer{}, &bytes.Buffer{})
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		b, err := os.ReadFile(out)
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %v", format, err)
		}
		if format == "json" {
			var rep struct {
				Orders []json.RawMessage `json:"orders"`
			}
			if err := json.Unmarshal(b, &rep); err != nil || len(rep.Orders) != 4 {
				t.Errorf("json report: %d orders, %v", len(rep.Orders), err)
			}
		}
		if format == "csv" && !bytes.HasPrefix(b, []byte("\ufeff")) {
			t.Error("csv report lacks the BOM Excel needs")
		}
	}
}

// `worker run` starts on a migrated database, serves /healthz, and stops
// cleanly when its context ends (what SIGINT/SIGTERM do).
func TestRunServesAndStops(t *testing.T) {
	t.Parallel()
	url := testdb.URL(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := envOf(map[string]string{
		"DATABASE_URL": url, "FP_BASE_URL": "http://127.0.0.1:9", "FP_TOKEN": "t", "LISTEN_ADDR": addr,
		"CALLBACK_BASE_URL": "http://" + addr, "CALLBACK_SECRET": "0123456789abcdef0123",
		"SUCCESS_URL": "https://shop.example.no/ok", "FAILURE_URL": "https://shop.example.no/fail",
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"run"}, env, &bytes.Buffer{}, &bytes.Buffer{}) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker run never answered /healthz: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("run did not stop")
	}
}
