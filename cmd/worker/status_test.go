package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/testdb"
)

// operator runs `worker args…` against the stack's database as kari.
func (s *stack) operator(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return command(t, testdbURL(s), args...)
}

// command runs `worker args…` against the database at url as kari.
func command(t *testing.T, url string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, envOf(map[string]string{"DATABASE_URL": url, "USER": "kari"}), &out, &errOut)
	return out.String(), errOut.String(), err
}

// FP answers 500 to every request until the orders fail; `worker status`
// shows the batch with its failed orders, `worker retry BATCH` queues them
// again and the worker sends each once; orders not in failed are refused
// with exit code 1, usage mistakes with 2. What a retry writes (events,
// versions, jobs) and that a refusal changes nothing are internal/operator's
// tests.
func TestStatusAndRetry(t *testing.T) {
	t.Parallel()
	s := startFaultStack(t, fpfake.Config{Faults: fpfake.Faults{Fail500Rate: 1}})
	start := time.Now()
	batches := s.importCSV(t, "f.csv", fourKinds)
	batch := batches[0].BatchID
	s.waitSettled(t, start, false)
	for ref, r := range s.view(t) {
		if r.Status != "failed" || s.sim.Creations(ref) != 0 {
			t.Fatalf("%s: %+v; want failed, never created", ref, r)
		}
	}

	out, errOut, err := s.operator(t, "status")
	if err != nil {
		t.Fatalf("status: %v\n%s", err, errOut)
	}
	t.Logf("worker status:\n%s", out)
	if !strings.Contains(out, fmt.Sprintf("\n%d ", batch)) || !strings.Contains(out, "failed 4") || !strings.Contains(out, "f.csv") ||
		!strings.Contains(out, "submit") {
		t.Errorf("status shows:\n%s", out)
	}
	out, _, err = s.operator(t, "status", "--format", "json")
	var overview struct {
		Batches []struct {
			BatchID  int64          `json:"batch_id"`
			Orders   int            `json:"orders"`
			ByStatus map[string]int `json:"by_status"`
		} `json:"batches"`
		Queues []struct {
			Queue string `json:"queue"`
		} `json:"queues"`
	}
	if err != nil || json.Unmarshal([]byte(out), &overview) != nil || len(overview.Batches) != 1 ||
		overview.Batches[0].BatchID != batch || overview.Batches[0].ByStatus["failed"] != 4 || len(overview.Queues) < 3 {
		t.Errorf("status --format json: %v\n%s", err, out)
	}

	out, errOut, err = s.operator(t, "status", fmt.Sprint(batch))
	if err != nil {
		t.Fatalf("status BATCH: %v\n%s", err, errOut)
	}
	t.Logf("worker status %d:\n%s", batch, out)
	for _, ref := range []string{"F-INV", "F-PL", "F-CO", "F-HC"} {
		if !strings.Contains(out, ref) {
			t.Errorf("status %d does not list %s:\n%s", batch, ref, out)
		}
	}
	if strings.Count(out, " failed ") < 4 || !strings.Contains(out, fmt.Sprintf("worker retry %d", batch)) || strings.Contains(out, "01010012356") {
		t.Errorf("status %d shows:\n%s", batch, out)
	}

	// FP works again; the operator retries the batch.
	s.sim.SetFaults(fpfake.Faults{})
	retryAt := time.Now()
	out, errOut, err = s.operator(t, "retry", fmt.Sprint(batch), "--note", "FP fixed their outage")
	if err != nil {
		t.Fatalf("retry: %v\n%s%s", err, out, errOut)
	}
	t.Logf("worker retry %d:\n%s", batch, out)
	if strings.Count(out, "queued to be sent again") != 4 {
		t.Errorf("retry printed:\n%s", out)
	}
	s.waitSettled(t, retryAt, false)
	for ref, r := range s.view(t) {
		if r.Status != "submitted" || s.sim.Creations(ref) != 1 {
			t.Errorf("%s after retry: %+v, created %d times; want submitted once", ref, r, s.sim.Creations(ref))
		}
	}

	// Nothing failed any more: the batch and an order are refused.
	for _, args := range [][]string{{"retry", fmt.Sprint(batch)}, {"retry", "invoice:F-INV"}, {"retry", "F-INV"}, {"status", "999999"}, {"retry", "999999"}} {
		out, errOut, err := s.operator(t, args...)
		if exitCode(err) != 1 {
			t.Errorf("%v: exit %d (%v), want 1\n%s%s", args, exitCode(err), err, out, errOut)
		}
	}
	for _, args := range [][]string{{"retry"}, {"retry", "1", "2"}, {"retry", "--bogus", "1"}, {"status", "--days", "0"}, {"status", "x"}, {"status", "--format", "pdf"}} {
		if _, _, err := s.operator(t, args...); exitCode(err) != 2 {
			t.Errorf("%v: exit %d (%v), want 2", args, exitCode(err), err)
		}
	}
}

// retry refuses an order in needs_review (a request may have reached FP)
// with exit code 1 and says to use `worker review`.
func TestRetryRefusesNeedsReview(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	testdb.AddOrder(t, pool, testdb.Order{Kind: "invoice", Ref: "R-1", Status: "needs_review"})
	out, _, err := command(t, pool.Config().ConnString(), "retry", "R-1")
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "worker review") {
		t.Errorf("retry of a needs_review order: exit %d, %v\n%s", exitCode(err), err, out)
	}
}
