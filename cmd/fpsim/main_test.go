package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for run's writer and the test's reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRunServesAndStops(t *testing.T) {
	t.Parallel()
	env := map[string]string{"FP_TOKEN": "very-secret-token", "FPSIM_PLAN": "none"}
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-errors-as-object"}, func(k string) string { return env[k] }, &stdout, &stderr)
	}()

	listening := regexp.MustCompile(`fpsim listening on (http://127\.0\.0\.1:\d+)`)
	var base string
	deadline := time.Now().Add(5 * time.Second)
	for base == "" {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("not listening; stderr: %s", stderr.String())
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}

	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/connect/orders/invoice/submit", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer very-secret-token")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusExpectationFailed || !strings.Contains(string(body), `"errors":{`) {
		t.Errorf("got %d %s, want 417 with errors as an object", resp.StatusCode, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	logs := stderr.String()
	if !strings.Contains(logs, "fp request") || !strings.Contains(logs, "status=417") {
		t.Errorf("request not logged:\n%s", logs)
	}
	if strings.Contains(logs, "very-secret-token") {
		t.Errorf("token in the logs:\n%s", logs)
	}
}

func TestRunRejectsBadSettings(t *testing.T) {
	t.Parallel()
	env := map[string]string{"FPSIM_CALLBACK_DELAY": "soon", "FPSIM_LIMIT_PER_MINUTE": "-1"}
	var stdout, stderr syncBuffer
	err := run(t.Context(), []string{"-addr", "8099", "-latency", "-1s", "-plan", "sent"}, func(k string) string { return env[k] }, &stdout, &stderr)
	if err == nil {
		t.Fatal("run accepted bad settings")
	}
	for _, want := range []string{
		`FPSIM_CALLBACK_DELAY="soon" is not a duration`,
		`addr "8099" is not host:port`,
		`latency -1s must not be negative`,
		`limit-per-minute -1 must not be negative`,
		`plan status "sent"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 5 {
		t.Errorf("%d lines, want one per problem:\n%v", n, err)
	}
}
