package main

// Process-level fault tests (issue 4): the real `worker run` binary, killed,
// cut off from Postgres, and stopped gracefully in the middle of a batch.
// Each test has its own database and simulator; see proc_test.go.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

// crashBatchCSV is n valid orders, one line each: 80 % invoices, 5 % payment
// links, 10 % checkouts, 5 % hosted checkouts. Refs are prefix-00001, …
func crashBatchCSV(prefix string, n int) string {
	var b strings.Builder
	b.WriteString(header)
	for i := 1; i <= n; i++ {
		ref := fmt.Sprintf("%s-%05d", prefix, i)
		rate := fmt.Sprintf("%d.%02d", 100+i%900, i%100)
		switch i % 20 {
		case 0, 1:
			fmt.Fprintf(&b, "%s,checkout,private,Ola Nordmann,ola@example.no,+47,46567470,,,Kirkegata 2,7030,Trondheim,NO,no,,Billett,1,%s,0,12,,,visa,,,,,\n", ref, rate)
		case 2:
			fmt.Fprintf(&b, "%s,hosted-checkout,private,Liv Berg,liv@example.no,+47,46567471,,,,,,,en,,Abonnement,1,%s,0,25,,,,,,,,\n", ref, rate)
		case 3:
			fmt.Fprintf(&b, "%s,payment-link,corporate,Fjord AS,post@fjord.example.no,+47,46567469,,923609016,Storgata 1,0155,Oslo,NO,en,,Konsulenttimer,2,%s,0,25,,,,,,true,true,\n", ref, rate)
		default:
			fmt.Fprintf(&b, "%s,invoice,corporate,Fjord AS,post@fjord.example.no,+47,46567469,,923609016,Storgata 1,0155,Oslo,NO,no,,Konsulenttimer,1,%s,0,25,,,,,,,,\n", ref, rate)
		}
	}
	return b.String()
}

// crashSeed is CRASH_SEED when set (to repeat a run), else random.
func crashSeed(t *testing.T) uint64 {
	if s := os.Getenv("CRASH_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CRASH_SEED: %v", err)
		}
		return seed
	}
	return rand.Uint64()
}

// progress is where the batch stands.
type progress struct {
	open       int // orders queued or submitting
	submitted  int // orders FP accepted (submitted or later, by our record)
	review     int // needs_review
	jobs       int // submit and callback jobs not finished
	running    int // of which running (a killed worker's stay so until rescued)
	openTries  int // submit attempts without outcome
	byStatus   string
	jobsByStat string
}

func (pe *procEnv) progress(ctx context.Context) (progress, error) {
	var pr progress
	err := pe.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM orders WHERE status IN ('queued', 'submitting')),
		(SELECT count(*) FROM orders WHERE status NOT IN ('queued', 'submitting', 'needs_review', 'provider_rejected', 'failed')),
		(SELECT count(*) FROM orders WHERE status = 'needs_review'),
		(SELECT count(*) FROM river_job WHERE queue IN ('submit', 'callbacks') AND state NOT IN ('completed', 'discarded', 'cancelled')),
		(SELECT count(*) FROM river_job WHERE queue IN ('submit', 'callbacks') AND state = 'running'),
		(SELECT count(*) FROM submit_attempts WHERE outcome IS NULL),
		(SELECT coalesce(string_agg(status || '=' || n, ' ' ORDER BY status), '') FROM (SELECT status, count(*) n FROM orders GROUP BY 1) s),
		(SELECT coalesce(string_agg(queue || '/' || state || '=' || n, ' ' ORDER BY queue, state), '') FROM (SELECT queue, state::text, count(*) n FROM river_job GROUP BY 1, 2) j)`).
		Scan(&pr.open, &pr.submitted, &pr.review, &pr.jobs, &pr.running, &pr.openTries, &pr.byStatus, &pr.jobsByStat)
	return pr, err
}

// waitFor polls until cond holds, logging progress now and then. A query
// error (a cut connection) is retried until the deadline. p, when not nil,
// must stay alive.
func (pe *procEnv) waitFor(what string, p *workerProc, timeout time.Duration, cond func(progress) bool) progress {
	pe.t.Helper()
	ctx := context.Background()
	start := time.Now()
	deadline := start.Add(timeout)
	lastLog := start
	var pr progress
	var err error
	for {
		pr, err = pe.progress(ctx)
		if err == nil && cond(pr) {
			return pr
		}
		if p != nil && p.exited() {
			pe.t.Fatalf("waiting for %s: worker run #%d exited (%s); progress %+v", what, p.n, p.describeExit(), pr)
		}
		if time.Now().After(deadline) {
			pe.t.Fatalf("waiting for %s: not after %s; progress %+v (last error %v)", what, timeout, pr, err)
		}
		if time.Since(lastLog) > 15*time.Second {
			pe.t.Logf("waiting for %s (%s): orders %s; jobs %s; open attempts %d", what,
				time.Since(start).Round(time.Second), pr.byStatus, pr.jobsByStat, pr.openTries)
			lastLog = time.Now()
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// settled: no order waits to be sent and no submit or callback job is left
// to run.
func settled(pr progress) bool { return pr.open == 0 && pr.jobs == 0 }

// orderRecord is one order as the database knows it, with its attempts.
type orderRecord struct {
	id                                int64
	ref, kind, status, fpUUID, lastEr string
	created, unknown, open            int // attempts by outcome: 2xx, unanswered, none yet
	attempts                          int
	jobState                          string
}

func (pe *procEnv) orderRecords() map[string]*orderRecord {
	pe.t.Helper()
	rows, err := pe.pool.Query(context.Background(), `SELECT o.id, o.order_ref, o.kind, o.status,
			coalesce(o.fp_order_uuid, ''), coalesce(o.last_error, ''),
			count(a.id) FILTER (WHERE a.outcome = 'created'),
			count(a.id) FILTER (WHERE a.outcome IN ('abandoned', 'ambiguous', 'superseded')),
			count(a.id) FILTER (WHERE a.outcome IS NULL AND a.id IS NOT NULL),
			count(a.id),
			coalesce((SELECT string_agg(j.state::text, ',' ORDER BY j.id) FROM river_job j
				WHERE j.kind = 'submit_order' AND (j.args->>'order_id')::bigint = o.id), 'none')
		FROM orders o LEFT JOIN submit_attempts a ON a.order_id = o.id
		GROUP BY o.id`)
	if err != nil {
		pe.t.Fatal(err)
	}
	out := map[string]*orderRecord{}
	for rows.Next() {
		r := &orderRecord{}
		if err := rows.Scan(&r.id, &r.ref, &r.kind, &r.status, &r.fpUUID, &r.lastEr,
			&r.created, &r.unknown, &r.open, &r.attempts, &r.jobState); err != nil {
			pe.t.Fatal(err)
		}
		out[r.ref] = r
	}
	if err := rows.Err(); err != nil {
		pe.t.Fatal(err)
	}
	return out
}

// evidence is an order's attempts and events, for a failure message.
func (pe *procEnv) evidence(orderID int64) string {
	ctx := context.Background()
	var b strings.Builder
	rows, err := pe.pool.Query(ctx, `SELECT attempt, job_id, job_attempt, started_at, coalesce(outcome, 'NULL'),
		coalesce(http_status, 0), coalesce(message, '') FROM submit_attempts WHERE order_id = $1 ORDER BY attempt`, orderID)
	if err != nil {
		return err.Error()
	}
	for rows.Next() {
		var attempt, httpStatus int
		var jobID int64
		var jobAttempt int
		var started time.Time
		var outcome, msg string
		if err := rows.Scan(&attempt, &jobID, &jobAttempt, &started, &outcome, &httpStatus, &msg); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "\n    attempt %d job %d/%d started %s outcome %s http %d %q", attempt, jobID, jobAttempt,
			started.Format("15:04:05.000"), outcome, httpStatus, msg)
	}
	rows.Close()
	rows, err = pe.pool.Query(ctx, `SELECT at, type, coalesce(status, ''), coalesce(attempt, 0), detail::text
		FROM order_events WHERE order_id = $1 ORDER BY id`, orderID)
	if err != nil {
		return b.String() + err.Error()
	}
	for rows.Next() {
		var at time.Time
		var typ, status, detail string
		var attempt int
		if err := rows.Scan(&at, &typ, &status, &attempt, &detail); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "\n    event %s %s %s attempt %d %s", at.Format("15:04:05.000"), typ, status, attempt, detail)
	}
	rows.Close()
	// River keeps each failed run's error on the job.
	rows, err = pe.pool.Query(ctx, `SELECT id, state::text, attempt, coalesce(array_to_string(errors, ' | '), '')
		FROM river_job WHERE kind = 'submit_order' AND (args->>'order_id')::bigint = $1 ORDER BY id`, orderID)
	if err != nil {
		return b.String() + err.Error()
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var state, errs string
		var attempt int
		if err := rows.Scan(&id, &state, &attempt, &errs); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "\n    river job %d %s after %d runs; errors: %s", id, state, attempt, errs)
	}
	return b.String()
}

// outcome sums up verifyOrders.
type outcome struct {
	orders           int
	accepted         int // submitted, or further on FP's word
	review           int // needs_review
	reviewNotCreated int // of which FP never got
	extraSessions    int // checkout sessions beyond the first
	openAttempts     int
	reviewCreated    []int64 // ids of needs_review orders that FP did create
	extraRefs        []int64 // ids of checkout orders created more than once
}

func (o outcome) String() string {
	return fmt.Sprintf("%d orders: %d accepted by FP, %d needs_review (%d of them never reached FP), %d extra checkout sessions, %d attempts left without outcome",
		o.orders, o.accepted, o.review, o.reviewNotCreated, o.extraSessions, o.openAttempts)
}

// fpStatuses are the states only FP's word (a callback) sets.
var fpStatuses = map[string]bool{"sent": true, "reserved": true, "paid": true, "partially_refunded": true,
	"refunded": true, "payment_failed": true, "cancelled": true, "expired": true}

// verifyOrders checks every order against the simulator: none lost (queued
// or submitting), none duplicated (an invoice or payment link created at FP
// more than once), every order FP accepted by our record created at FP, and
// extra checkout sessions only for attempts whose answer was never recorded
// (the one case a checkout kind may be sent again: it only creates a payment
// URL and notifies no customer, so an unanswered attempt is retried instead
// of waiting for review).
func (pe *procEnv) verifyOrders(want int) outcome {
	pe.t.Helper()
	t := pe.t
	recs := pe.orderRecords()
	if len(recs) != want {
		t.Errorf("%d orders in the database, want %d", len(recs), want)
	}
	simRef := map[string]string{} // FP uuid → reference
	for _, o := range pe.sim.Orders() {
		simRef[o.UUID] = o.Reference
	}
	var res outcome
	res.orders = len(recs)
	creationsTotal := 0
	bad := 0
	fail := func(r *orderRecord, format string, args ...any) {
		bad++
		if bad <= 20 {
			t.Errorf("%s (%s, status %s, created at FP %d times): %s%s", r.ref, r.kind, r.status,
				pe.sim.Creations(r.ref), fmt.Sprintf(format, args...), pe.evidence(r.id))
		}
	}
	refs := make([]string, 0, len(recs))
	for ref := range recs {
		refs = append(refs, ref)
	}
	sort.Strings(refs)
	for _, ref := range refs {
		r := recs[ref]
		n := pe.sim.Creations(ref)
		creationsTotal += n
		res.openAttempts += r.open
		if r.created > 1 {
			fail(r, "%d attempts recorded as created", r.created)
		}
		if r.fpUUID != "" && simRef[r.fpUUID] != ref {
			fail(r, "fp_order_uuid %s is not one of FP's orders for this reference (FP: %q)", r.fpUUID, simRef[r.fpUUID])
		}
		// An attempt can stay open only when FP's callback settled the order
		// before the job ran again (it then has nothing to send).
		if r.open > 0 && !fpStatuses[r.status] {
			fail(r, "%d attempts left without outcome", r.open)
		}
		switch {
		case r.status == "queued" || r.status == "submitting":
			fail(r, "LOST: still %s (job %s)", r.status, r.jobState)
			continue
		case r.status == "needs_review":
			res.review++
			if n == 0 {
				res.reviewNotCreated++
			} else {
				res.reviewCreated = append(res.reviewCreated, r.id)
			}
		case r.status == "submitted" || fpStatuses[r.status]:
			res.accepted++
			if n == 0 {
				fail(r, "our record says FP accepted it, FP has no such order")
			}
		default:
			fail(r, "unexpected status (last error %q)", r.lastEr)
			continue
		}
		if fpclient.Kind(r.kind).NotifiesCustomer() {
			if n > 1 {
				fail(r, "DUPLICATE: an order that notifies the customer was created %d times", n)
			}
			continue
		}
		// Checkout kinds are retried after an unknown outcome, never parked.
		if r.status == "needs_review" {
			fail(r, "a checkout kind went to needs_review")
		}
		if n > 1 {
			res.extraSessions += n - 1
			res.extraRefs = append(res.extraRefs, r.id)
		}
		if n > r.created+r.unknown+r.open {
			fail(r, "created %d times, but only %d attempts were answered 2xx or went unanswered", n, r.created+r.unknown+r.open)
		}
	}
	if bad > 20 {
		t.Errorf("… and %d more orders wrong", bad-20)
	}
	if st := pe.sim.Stats(); st.Created != creationsTotal {
		t.Errorf("FP created %d orders, %d of them under our orders' references", st.Created, creationsTotal)
	}
	return res
}

// TestCrashSIGKILLMidBatch kills the worker with SIGKILL at random moments
// of a 2 000-order batch, at least ten times, restarting it each time, then
// lets the last run finish. Nothing is lost and nothing that notifies the
// customer is created twice: an order whose request may have reached FP
// unanswered is needs_review (invoice, payment link) or sent again (checkout
// kinds, which only create a URL).
func TestCrashSIGKILLMidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level crash test (about two minutes)")
	}
	t.Parallel()
	const orders = 2000
	seed := crashSeed(t)
	t.Logf("seed %d (CRASH_SEED=%d repeats the kill schedule)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	testStart := time.Now()

	// FP_TIMEOUT=2s: job timeout 17s, a killed worker's jobs are rescued
	// 77s after they started (runtime.go: job timeout + 1 min), by the
	// leader's rescuer, which runs every 30s.
	//
	// FP calls back (SENT, PAID) for two orders in three; for the third it
	// stays silent, so that an order whose request a kill interrupted is
	// settled by the worker alone (needs_review, or sent again for the
	// checkout kinds) rather than by FP's callback.
	plan := func(o fpfake.Order) []string {
		if n, _ := strconv.Atoi(o.Reference[strings.LastIndexByte(o.Reference, '-')+1:]); n%3 == 0 {
			return nil
		}
		return []string{"SENT", "PAID"}
	}
	pe := newProcEnv(t, fpfake.Config{CallbackDelay: 150 * time.Millisecond, Plan: plan}, map[string]string{"FP_TIMEOUT": "2s"})
	pe.importOrders("crash.csv", crashBatchCSV("K", orders))

	ctx := context.Background()
	kills, landed := 0, 0
	for kills < 10 || (landed < 3 && kills < 25) {
		latency := time.Duration(20+rng.IntN(31)) * time.Millisecond
		pe.sim.UpdateFaults(func(f *fpfake.Faults) { f.Latency = latency })
		before, err := pe.progress(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The kill comes 200–1500 ms after the run's first request to FP
		// (not after its start: a run that follows a killed one waits for
		// the dead sender's share of FP_CONCURRENCY to lapse before it
		// sends, see internal/throttle).
		reqs := pe.sim.Stats().Requests
		p := pe.spawn()
		warmup := waitUntil(30*time.Second, func() bool { return p.exited() || pe.sim.Stats().Requests > reqs })
		wait := time.Duration(200+rng.IntN(1301)) * time.Millisecond
		time.Sleep(wait)
		if p.exited() {
			t.Fatalf("worker run #%d exited by itself (%s)", p.n, p.describeExit())
		}
		p.kill()
		kills++
		after, err := pe.progress(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Attempts of a killed run stay open until its jobs are rescued
		// (over a minute): the new ones are those this kill interrupted.
		interrupted := after.openTries - before.openTries
		if interrupted > 0 {
			landed++
		}
		t.Logf("kill %2d: run #%d sent its first request %s after its start, killed %s later (latency %s): %d attempts left open; accepted %d, needs_review %d, open %d",
			kills, p.n, warmup.Round(time.Millisecond), wait, latency, interrupted, after.submitted, after.review, after.open)
		if after.open == 0 && after.running == 0 {
			break // nothing left to interrupt
		}
	}
	if kills < 10 {
		t.Errorf("only %d kills: the batch finished before ten", kills)
	}
	if landed < 3 {
		t.Errorf("only %d of %d kills interrupted a request in flight: the test did not exercise a crash mid-request", landed, kills)
	}
	killPhase := time.Since(testStart)

	pe.sim.UpdateFaults(func(f *fpfake.Faults) { f.Latency = 20 * time.Millisecond })
	last := pe.start()
	pr := pe.waitFor("the batch to settle after the kills", last, 5*time.Minute, settled)
	t.Logf("settled %s after the last kill: orders %s", (time.Since(testStart) - killPhase).Round(time.Second), pr.byStatus)
	if took, ok := last.stop(30 * time.Second); !ok || last.waitErr != nil {
		t.Errorf("last run did not stop cleanly on SIGTERM: took %s, %s", took, last.describeExit())
	}

	res := pe.verifyOrders(orders)
	t.Logf("%d kills (%d mid-request), seed %d: %s", kills, landed, seed, res)
	t.Logf("total %s (kill phase %s); FP: %s", time.Since(testStart).Round(time.Second), killPhase.Round(time.Second), simSummary(pe.sim))
}

// waitUntil polls cond every 5 ms for up to timeout and returns how long it took.
func waitUntil(timeout time.Duration, cond func() bool) time.Duration {
	start := time.Now()
	for !cond() && time.Since(start) < timeout {
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func simSummary(sim *fpfake.Server) string {
	st := sim.Stats()
	return fmt.Sprintf("%d requests, %d created, %d updated, answers %v, callbacks %d delivered / %d given up",
		st.Requests, st.Created, st.Updated, st.ByStatus, st.CallbacksDelivered, st.CallbacksFailed)
}

// TestConnectionsCutMidBatch cuts every connection to the worker's database,
// five times, 500 ms apart, while it submits a 1 000-order batch (the
// shared Postgres server is not restarted: other packages' tests use it).
// The worker keeps running, reconnects and finishes; nothing is lost or
// created twice.
func TestConnectionsCutMidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level fault test")
	}
	t.Parallel()
	const orders = 1000
	testStart := time.Now()
	pe := newProcEnv(t, fpfake.Config{Plan: fpfake.NoCallbacks, Faults: fpfake.Faults{Latency: 20 * time.Millisecond}},
		map[string]string{"FP_TIMEOUT": "2s"})
	pe.importOrders("cut.csv", crashBatchCSV("C", orders))
	p := pe.start()
	pe.waitFor("the first orders to be submitted", p, 2*time.Minute, func(pr progress) bool { return pr.submitted >= 50 })

	ctx := context.Background()
	kc, err := pgx.ParseConfig(pe.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	kc.RuntimeParams["application_name"] = testAppName
	killer, err := pgx.ConnectConfig(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer killer.Close(ctx)
	workerConns := func() int {
		var n int
		if err := killer.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name <> $1`, testAppName).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := 1; i <= 5; i++ {
		// Between cuts the worker reconnects (its pool on demand, River's
		// listener after a backoff): wait for it to hold a connection.
		back := waitUntil(30*time.Second, func() bool { return workerConns() > 0 })
		var cutWorker, cutTest, accepted int
		// Every backend of the database goes, the test's own pool's too
		// (its queries retry in waitFor).
		err := killer.QueryRow(ctx, `SELECT count(*) FILTER (WHERE cut AND app <> $1), count(*) FILTER (WHERE cut AND app = $1),
				(SELECT count(*) FROM orders WHERE status = 'submitted')
			FROM (SELECT application_name AS app, pg_terminate_backend(pid) AS cut FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid()) s`, testAppName).Scan(&cutWorker, &cutTest, &accepted)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("cut %d: worker connected again after %s; %d of its connections terminated (and %d of the test's); %d orders submitted so far",
			i, back.Round(time.Millisecond), cutWorker, cutTest, accepted)
		if cutWorker == 0 {
			t.Errorf("cut %d terminated none of the worker's connections", i)
		}
		time.Sleep(500 * time.Millisecond)
		if p.exited() {
			t.Fatalf("the worker exited after its connections were cut: %s", p.describeExit())
		}
	}
	cutDone := time.Since(testStart)

	pr := pe.waitFor("the batch to settle after the cuts", p, 5*time.Minute, settled)
	t.Logf("settled %s after the last cut: orders %s", (time.Since(testStart) - cutDone).Round(time.Second), pr.byStatus)
	if p.exited() {
		t.Fatalf("the worker exited: %s", p.describeExit())
	}
	// It answers its health check: its pool reconnected.
	resp, err := http.Get("http://" + p.listenAddr() + "/healthz")
	if err != nil {
		t.Errorf("healthz: %v", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("healthz: HTTP %d", resp.StatusCode)
		}
	}
	if took, ok := p.stop(30 * time.Second); !ok || p.waitErr != nil {
		t.Errorf("worker did not stop cleanly on SIGTERM: took %s, %s", took, p.describeExit())
	}
	res := pe.verifyOrders(orders)
	t.Logf("after 5 cuts: %s", res)
	// Cutting database connections does not touch HTTP: every request got
	// FP's answer, and the worker records an answer again on a fresh
	// connection when the first try was cut. So no order FP created may end
	// in needs_review, and no checkout may be sent twice.
	if len(res.reviewCreated) > 0 {
		t.Errorf("%d orders in needs_review although FP answered 201 (the answer was lost to a cut connection); e.g.:%s",
			len(res.reviewCreated), pe.evidence(res.reviewCreated[0]))
	}
	if len(res.extraRefs) > 0 {
		t.Errorf("%d checkout orders sent again after their 201 was lost; e.g.:%s", len(res.extraRefs), pe.evidence(res.extraRefs[0]))
	}
	t.Logf("total %s; worker logged %d warnings, %d errors; FP: %s", time.Since(testStart).Round(time.Second),
		p.logs.count(`"level":"WARN"`), p.logs.count(`"level":"ERROR"`), simSummary(pe.sim))
}

// TestGracefulStopMidBatch sends SIGTERM while requests are in flight: the
// worker lets them finish and exits 0 within the soft-stop time, leaving no
// attempt without outcome; what it did not send stays queued with its job
// ready, and the next run sends it, once.
func TestGracefulStopMidBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("process-level fault test")
	}
	t.Parallel()
	const orders = 300
	const fpTimeout = 5 * time.Second
	softStop := fpTimeout + 5*time.Second // runtime.go: SoftStopTimeout
	testStart := time.Now()
	pe := newProcEnv(t, fpfake.Config{Plan: fpfake.NoCallbacks, Faults: fpfake.Faults{Latency: 300 * time.Millisecond}},
		map[string]string{"FP_TIMEOUT": fpTimeout.String(), "FP_RATE_LIMIT": "500"})
	pe.importOrders("stop.csv", crashBatchCSV("G", orders))
	p := pe.start()
	pe.waitFor("the first orders to be submitted", p, 2*time.Minute, func(pr progress) bool { return pr.submitted >= 30 })

	took, exited := p.stop(softStop + 30*time.Second)
	if !exited {
		t.Fatalf("no exit %s after SIGTERM", took)
	}
	t.Logf("worker exited %s after SIGTERM (%s; soft-stop timeout %s)", took.Round(time.Millisecond), p.describeExit(), softStop)
	if p.waitErr != nil {
		t.Errorf("exit after SIGTERM: %v, want exit code 0", p.waitErr)
	}
	if took > softStop {
		t.Errorf("exit took %s, longer than the soft-stop timeout %s: running jobs were cancelled", took, softStop)
	}
	logs := p.logs.String()
	stopping := strings.Index(logs, `"msg":"stopping: finishing running jobs"`)
	if stopping < 0 || !strings.Contains(logs[stopping:], `"msg":"stopped"`) {
		t.Fatalf("the worker did not log its graceful stop")
	}
	// Requests in flight at SIGTERM were answered and recorded after it:
	// the stop did happen mid-request.
	finished := strings.Count(logs[stopping:], `"msg":"order submitted"`)
	t.Logf("%d orders were submitted after SIGTERM (requests in flight then)", finished)
	if finished == 0 {
		t.Errorf("no request was in flight at SIGTERM: the test did not stop the worker mid-request")
	}

	// What the stopped worker left behind.
	recs := pe.orderRecords()
	sent, queued := 0, 0
	for _, r := range recs {
		n := pe.sim.Creations(r.ref)
		switch {
		case r.open > 0:
			t.Errorf("%s: %d attempts left without outcome after a graceful stop%s", r.ref, r.open, pe.evidence(r.id))
		case r.status == "submitted" && n == 1 && r.created == 1 && r.jobState == "completed":
			sent++
		case r.status == "queued" && n == 0 && (r.jobState == "available" || r.jobState == "retryable" || r.jobState == "scheduled"):
			queued++
		default:
			t.Errorf("%s (%s) after a graceful stop: status %s, job %s, created at FP %d times%s",
				r.ref, r.kind, r.status, r.jobState, n, pe.evidence(r.id))
		}
	}
	t.Logf("after SIGTERM: %d submitted, %d queued with their jobs ready", sent, queued)
	if queued == 0 {
		t.Errorf("the whole batch was sent before SIGTERM: the test did not stop the worker mid-batch")
	}
	if st := pe.sim.Stats(); st.Requests != sent {
		t.Errorf("FP got %d requests for %d submitted orders: a request went out that was not recorded", st.Requests, sent)
	}

	again := pe.start()
	pe.waitFor("the rest of the batch after the restart", again, 3*time.Minute, settled)
	if took, ok := again.stop(30 * time.Second); !ok || again.waitErr != nil {
		t.Errorf("second run did not stop cleanly: took %s, %s", took, again.describeExit())
	}
	res := pe.verifyOrders(orders)
	if res.accepted != orders || res.openAttempts != 0 {
		t.Errorf("after the restart: %s; want every order accepted, no open attempt", res)
	}
	if st := pe.sim.Stats(); st.Requests != orders || st.Created != orders {
		t.Errorf("FP got %d requests and created %d orders, want %d each", st.Requests, st.Created, orders)
	}
	t.Logf("total %s: %s", time.Since(testStart).Round(time.Second), res)
}
