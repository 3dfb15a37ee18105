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

// Mistakes on the command line are refused before any database is opened:
// exit code 2, the command named with the reason, then the usage; -h prints
// the usage and succeeds.
func TestOperatorUsage(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string // on stderr
	}{
		{[]string{"status", "--days", "0"}, "worker status: --days must be 1 or more\n\nusage:\n  worker status"},
		{[]string{"status", "x"}, `worker status: BATCH must be a batch number (as ` + "`worker status`" + ` lists them), not "x"`},
		{[]string{"retry"}, "worker retry: want one BATCH or ORDER, got 0\n\nusage:\n  worker retry"},
		{[]string{"retry", "7"}, "worker retry: --by is empty and $USER is not set: say who decides"},
		{[]string{"retry", "7", "--by", " "}, "worker retry: --by is empty"},
		{[]string{"review", "resubmit", "R-1"}, "worker review resubmit: --by is empty and $USER is not set"},
		{[]string{"review", "confirm", "R-1", "ODR 1", "--by", "kari"}, `worker review confirm: ORDER_UUID "ODR 1" holds a space`},
		{[]string{"review", "--format", "xml"}, "worker review list: --format must be text or json\n\nusage:\n  worker review"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), c.args, envOf(map[string]string{}), &out, &errOut)
		if exitCode(err) != 2 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%q: exit %d (%v), stderr:\n%s\nwant exit 2 and %q", c.args, exitCode(err), err, errOut.String(), c.want)
		}
	}
	for _, args := range [][]string{{"status", "-h"}, {"retry", "-h"}, {"review", "resubmit", "-h"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, envOf(map[string]string{}), &out, &errOut); err != nil || !strings.Contains(errOut.String(), "usage:") {
			t.Errorf("%q: %v, stderr %q; want the usage and no error", args, err, errOut.String())
		}
	}
}
