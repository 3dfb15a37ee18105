package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Every malformed setting is named on a line of its own, before anything
// is connected to (the database URL names a server that does not exist),
// and no secret or password is echoed.
func TestStartupNamesEveryBadSetting(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"run"}, envOf(map[string]string{
		"LOG_FORMAT": "xml", "DATABASE_URL": "postgres://u:s3cret-pw@db.invalid:notaport/x", "LISTEN_ADDR": "8080",
		"FP_TOKEN": "tok-very-secret", "FP_CONCURRENCY": "0", "FP_TIMEOUT": "soon", "REPOLL_EVERY": "10s",
		"CALLBACK_BASE_URL": "https://fp.example.no", "CALLBACK_SECRET": "0123456789abcdef0123",
		"SUCCESS_URL": "https://shop.example.no/ok", "FAILURE_URL": "https://shop.example.no/fail",
		"REPORT_FORMAT": "pdf",
	}), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil {
		t.Fatal("run started with bad settings")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"DATABASE_URL:", "FP_CONCURRENCY:", "FP_TIMEOUT:", "LISTEN_ADDR:", "LOG_FORMAT:", "REPOLL_EVERY:", "REPORT_FORMAT:"}
	if len(lines) != len(want) {
		t.Errorf("%d lines, want %d:\n%s", len(lines), len(want), err)
	}
	for _, w := range want {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, w) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d lines start with %q, want 1:\n%s", n, w, err)
		}
	}
	for _, secret := range []string{"s3cret-pw", "tok-very-secret", "0123456789abcdef0123"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows %q", secret)
		}
	}
	if exitCode(err) != 1 {
		t.Errorf("exit %d, want 1", exitCode(err))
	}
}
