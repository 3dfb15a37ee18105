package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// The start log of `worker run` says which mode callbacks are in, and
// recommends the key when there is none; the key itself is never printed.
func TestStartLogSaysCallbackMode(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"", "start-log-checksum-key-0123456789"} {
		t.Run("key="+strconv.FormatBool(key != ""), func(t *testing.T) {
			t.Parallel()
			var out daemontest.LockedBuffer
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"run"}, envOf(map[string]string{
					"DATABASE_URL": testdb.URL(t), "FP_TOKEN": "test-token", "FP_BASE_URL": "http://127.0.0.1:9",
					"LISTEN_ADDR": "127.0.0.1:0", "CALLBACK_BASE_URL": "https://fp.example.no", "CALLBACK_SECRET": "0123456789abcdef0123",
					"SUCCESS_URL": "https://shop.example.no/ok", "FAILURE_URL": "https://shop.example.no/fail",
					"REPORT_SCHEDULE": "off", "LOG_FORMAT": "json", "FP_CHECKSUM_KEY": key,
				}), &out, &out)
			}()
			deadline := time.Now().Add(time.Minute)
			for !strings.Contains(out.String(), `"worker running"`) {
				select {
				case err := <-done:
					cancel()
					t.Fatalf("worker run ended: %v\n%s", err, out.String())
				case <-time.After(20 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					cancel()
					t.Fatalf("not running after a minute:\n%s", out.String())
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("worker run: %v", err)
			}
			logs := out.String()
			warn := `"level":"WARN","msg":"callbacks without checksum key: each callback is confirmed with FP before it is applied; set FP_CHECKSUM_KEY"`
			info := `"level":"INFO","msg":"callbacks checked with FP_CHECKSUM_KEY`
			if key == "" && (!strings.Contains(logs, warn) || strings.Contains(logs, info)) {
				t.Errorf("Keyless: the start log does not warn:\n%s", logs)
			}
			if key != "" && (!strings.Contains(logs, info) || strings.Contains(logs, warn)) {
				t.Errorf("with a key: the start log does not say so:\n%s", logs)
			}
			if key != "" && strings.Contains(logs, key) {
				t.Error("the start log shows the key")
			}
		})
	}
}
