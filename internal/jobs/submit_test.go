package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertest"
	"github.com/riverqueue/river/rivertype"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/testdb"
	"github.com/frontpayment/fpexport/internal/throttle"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

// fakeSubmitter stands in for FP's client: it gives one answer and counts
// the requests that went out. The classes are fpclient's; the HTTP side of
// each is fpclient's own tests' business.
type fakeSubmitter struct {
	created *fpclient.Created
	err     error
	calls   atomic.Int32
}

func (f *fakeSubmitter) Submit(context.Context, fpclient.Kind, any) (*fpclient.Created, error) {
	f.calls.Add(1)
	return f.created, f.err
}

// answers are FP's answers by class, as the client reports them.
var answers = map[string]func() *fakeSubmitter{
	"created": func() *fakeSubmitter {
		return &fakeSubmitter{created: &fpclient.Created{HTTPStatus: 201, Message: "Order created", OrderUUID: "ODR-1", RateLimit: fpclient.RateLimit{Limit: -1, Remaining: -1}}}
	},
	"retryable": func() *fakeSubmitter {
		return &fakeSubmitter{err: &fpclient.Error{Class: fpclient.Retryable, StatusCode: 503, Message: "try again later", FromFP: true}}
	},
	"retry-after": func() *fakeSubmitter {
		return &fakeSubmitter{err: &fpclient.Error{Class: fpclient.Retryable, StatusCode: 429, Message: "too many requests", RetryAfter: 30 * time.Second}}
	},
	"auth": func() *fakeSubmitter {
		return &fakeSubmitter{err: &fpclient.Error{Class: fpclient.Auth, StatusCode: 401, Message: "Unauthenticated", FromFP: true}}
	},
	"permanent": func() *fakeSubmitter {
		return &fakeSubmitter{err: &fpclient.Error{Class: fpclient.Permanent, StatusCode: 417, Message: "validation failed", FromFP: true}}
	},
	"ambiguous": func() *fakeSubmitter {
		return &fakeSubmitter{err: &fpclient.Error{Class: fpclient.Ambiguous, StatusCode: 504, Message: "gateway timeout", Written: true}}
	},
}

// orderData is a valid stored order of the kind, so that the job builds a
// payload and sends it.
func orderData(t *testing.T, kind fpclient.Kind, ref string) []byte {
	t.Helper()
	o := mapping.Order{
		Ref: ref, Kind: kind,
		Customer: mapping.Customer{Type: "private", Name: "Kari Nordmann", Email: "kari@nordmann.no", CountryCode: "+47",
			MSISDN: "46567468", Street: "Luramyrveien 65", Zip: "4313", City: "Sandnes", Country: "NO"},
		Lines: []mapping.OrderLine{{ProductID: "1234", Name: "Test Product", Quantity: fpclient.QuantityUnit, Rate: 450000, TaxPercent: 12}},
	}
	if kind.NotifiesCustomer() {
		o.Customer.PersonalNumber = "28038712383"
	}
	if kind == fpclient.KindCheckout {
		o.PaymentMethod = "visa"
	}
	if kind == fpclient.KindPaymentLink {
		o.SendEmail = true
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// addQueued records an order as an import leaves it; with open, an earlier
// run's attempt without outcome too (its process gone), the order left
// submitting as that run left it.
func addQueued(t *testing.T, pool *pgxpool.Pool, kind fpclient.Kind, ref string, open bool) int64 {
	t.Helper()
	if open {
		return addOrder(t, pool, kind, ref, "submitting", true)
	}
	return addOrder(t, pool, kind, ref, "queued", false)
}

// addOrder records an order directly in the given status (a test's
// starting point, as internal/orders' tests do), with an open attempt or not.
func addOrder(t *testing.T, pool *pgxpool.Pool, kind fpclient.Kind, ref, status string, open bool) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	if err := pool.QueryRow(ctx, `INSERT INTO orders (kind, order_ref, batch_id, source, source_row, customer_name,
			grand_total_ore, order_data, fingerprint, status)
		VALUES ($1, $2, 0, 'f.csv', 2, 'Kari Nordmann', 450000, $3, 'fp', $4)
		RETURNING id`, string(kind), ref, orderData(t, kind, ref), status).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if open {
		if _, err := pool.Exec(ctx, `INSERT INTO submit_attempts (order_id, attempt, version, job_id, job_attempt, started_at)
			VALUES ($1, 1, 1, 0, 1, now() - interval '1 minute')`, id); err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, `UPDATE orders SET attempts = 1 WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// What River is told when Work returns.
const (
	resCompleted = "completed" // nil: River completes the job
	resSnoozed   = "snoozed"   // JobSnooze: no attempt spent
	resRetry     = "retry"     // an error: River retries with backoff
	resDiscarded = "discarded" // an error on the last attempt: River gives up
)

// TestSubmitOrderWorkerTable runs the submit job once per FP answer class ×
// kind × earlier attempt left open (its sender gone), through River's test
// worker on a real database, and checks the order's status, the latest
// attempt's outcome, what River was told, and how many requests went out.
// The table is docs/design.md's and fpclient's package doc's.
func TestSubmitOrderWorkerTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)

	// attempts counts the order's attempts; none may be left open.
	type want struct {
		status, outcome, result string
		requests                int32
		attempts, open          int
	}
	// expect is today's behaviour, written out per case rather than derived
	// from the code's own predicates.
	expect := func(class string, kind fpclient.Kind, open bool) want {
		notifies := kind == fpclient.KindInvoice || kind == fpclient.KindPaymentLink
		if open && notifies {
			// The earlier request may have reached FP: never sent again.
			return want{"needs_review", "abandoned", resCompleted, 0, 1, 0}
		}
		var w want
		switch class {
		case "created":
			w = want{"submitted", "created", resCompleted, 1, 1, 0}
		case "retryable":
			w = want{"queued", "retryable", resRetry, 1, 1, 0}
		case "retry-after":
			w = want{"queued", "retryable", resSnoozed, 1, 1, 0}
		case "auth":
			w = want{"queued", "auth", resSnoozed, 1, 1, 0}
		case "permanent":
			w = want{"provider_rejected", "rejected", resCompleted, 1, 1, 0}
		case "ambiguous":
			if notifies {
				w = want{"needs_review", "ambiguous", resCompleted, 1, 1, 0}
			} else {
				w = want{"queued", "ambiguous", resRetry, 1, 1, 0}
			}
		default:
			t.Fatalf("no expectation for %s", class)
		}
		if open {
			// A checkout session only creates a URL: the open attempt is
			// closed as abandoned and a second one sent.
			w.attempts = 2
		}
		return w
	}

	classes := []string{"created", "retryable", "retry-after", "auth", "permanent", "ambiguous"}
	kinds := []fpclient.Kind{fpclient.KindInvoice, fpclient.KindPaymentLink, fpclient.KindCheckout, fpclient.KindHostedCheckout}
	n := 0
	for _, class := range classes {
		for _, kind := range kinds {
			for _, open := range []bool{false, true} {
				n++
				name := fmt.Sprintf("%s/%s/open=%v", class, kind, open)
				t.Run(name, func(t *testing.T) {
					fake := answers[class]()
					w := submitWorker(pool, fake)
					id := addQueued(t, pool, kind, fmt.Sprintf("T-%d", n), open)

					got, workErr := work(ctx, t, pool, w, jobargs.SubmitOrderArgs{OrderID: id, Version: 1}, nil)
					var status, outcome string
					var attempts, openLeft int
					if err := pool.QueryRow(ctx, `SELECT o.status, coalesce(a.outcome, ''),
							(SELECT count(*) FROM submit_attempts WHERE order_id = o.id),
							(SELECT count(*) FROM submit_attempts WHERE order_id = o.id AND outcome IS NULL)
						FROM orders o JOIN submit_attempts a ON a.order_id = o.id
						WHERE o.id = $1 ORDER BY a.attempt DESC LIMIT 1`, id).Scan(&status, &outcome, &attempts, &openLeft); err != nil {
						t.Fatal(err)
					}
					gw := want{status, outcome, got, fake.calls.Load(), attempts, openLeft}
					if ww := expect(class, kind, open); gw != ww {
						t.Errorf("got %+v, want %+v (work error: %v)", gw, ww, workErr)
					}
				})
			}
		}
	}
}

// On the job's last attempt a retryable answer fails the order and the job
// ends (completed: the order's status is what counts, not a discarded
// job); an ambiguous answer for a kind that may be resent does the same.
func TestSubmitOrderWorkerLastAttempt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	for i, c := range []struct {
		class string
		kind  fpclient.Kind
	}{{"retryable", fpclient.KindInvoice}, {"ambiguous", fpclient.KindCheckout}} {
		t.Run(c.class+"/"+string(c.kind), func(t *testing.T) {
			fake := answers[c.class]()
			w := submitWorker(pool, fake)
			id := addQueued(t, pool, c.kind, fmt.Sprintf("L-%d", i), false)
			got, _ := work(ctx, t, pool, w, jobargs.SubmitOrderArgs{OrderID: id, Version: 1}, &river.InsertOpts{MaxAttempts: 1})
			var status, outcome string
			if err := pool.QueryRow(ctx, `SELECT o.status, coalesce(a.outcome, '') FROM orders o
				JOIN submit_attempts a ON a.order_id = o.id WHERE o.id = $1`, id).Scan(&status, &outcome); err != nil {
				t.Fatal(err)
			}
			if status != "failed" || outcome != c.class || got != resCompleted || fake.calls.Load() != 1 {
				t.Errorf("got %s/%s, River %s, %d requests; want failed/%s, River %s, 1 request",
					status, outcome, got, fake.calls.Load(), c.class, resCompleted)
			}
		})
	}
}

// submitWorker is the submit job as the worker configures it, without a
// throttle, sending to fake.
func submitWorker(pool *pgxpool.Pool, fake *fakeSubmitter) *SubmitOrderWorker {
	return &SubmitOrderWorker{Pool: pool, Cfg: SubmitConfig{
		FP: fake, CallbackBaseURL: "https://fpexport.example.no", CallbackSecret: "test-secret",
		SuccessURL: "https://shop.example.no/paid", FailureURL: "https://shop.example.no/failed",
		Location: time.UTC, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}}
}

// work runs the job once through River's test worker, in a transaction of
// its own that is rolled back (the job's row only lives there; the worker
// writes the order through the pool, as in production), and names what
// River made of Work's result.
func work(ctx context.Context, t *testing.T, pool *pgxpool.Pool, w *SubmitOrderWorker, args jobargs.SubmitOrderArgs, opts *river.InsertOpts) (string, error) {
	t.Helper()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	tw := rivertest.NewWorker(t, riverpgxv5.New(nil), &river.Config{}, w)
	res, workErr := tw.Work(ctx, t, tx, args, opts)
	if res == nil {
		t.Fatalf("work: %v", workErr)
	}
	switch {
	case res.EventKind == river.EventKindJobCompleted && workErr == nil:
		return resCompleted, nil
	case res.EventKind == river.EventKindJobSnoozed && workErr == nil:
		return resSnoozed, nil
	case res.EventKind == river.EventKindJobFailed && workErr != nil &&
		(res.Job.State == rivertype.JobStateRetryable || res.Job.State == rivertype.JobStateAvailable):
		// Available: the backoff is short enough for River to make the
		// job available again at once.
		return resRetry, workErr
	case res.EventKind == river.EventKindJobFailed && workErr != nil && res.Job.State == rivertype.JobStateDiscarded:
		return resDiscarded, workErr
	}
	return fmt.Sprintf("%s (state %s)", res.EventKind, res.Job.State), workErr
}

// A job that finds its order settled (by a callback, a human, an earlier
// run) or gone sends nothing and ends; an attempt a killed run left open is
// closed as superseded, since the order's status tells what became of it.
func TestSubmitOrderWorkerNothingToSend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	for i, c := range []struct {
		name, status string
		open         bool
		want         string // the latest attempt's outcome; "" for none
	}{
		{"submitted by a callback, attempt open", "submitted", true, "superseded"},
		{"in review", "needs_review", false, ""},
		{"rejected", "provider_rejected", false, ""},
		{"gone", "", false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake := answers["created"]()
			id := int64(1 << 40) // no such order
			if c.status != "" {
				id = addOrder(t, pool, fpclient.KindInvoice, fmt.Sprintf("S-%d", i), c.status, c.open)
			}
			got, err := work(ctx, t, pool, submitWorker(pool, fake), jobargs.SubmitOrderArgs{OrderID: id, Version: 1}, nil)
			if got != resCompleted || fake.calls.Load() != 0 {
				t.Errorf("River %s (%v), %d requests; want completed, none sent", got, err, fake.calls.Load())
			}
			if c.status == "" {
				return
			}
			var status, outcome string
			var attempts int
			if err := pool.QueryRow(ctx, `SELECT o.status,
					coalesce((SELECT coalesce(outcome, 'open') FROM submit_attempts WHERE order_id = o.id ORDER BY attempt DESC LIMIT 1), ''),
					(SELECT count(*) FROM submit_attempts WHERE order_id = o.id)
				FROM orders o WHERE o.id = $1`, id).Scan(&status, &outcome, &attempts); err != nil {
				t.Fatal(err)
			}
			if status != c.status || outcome != c.want {
				t.Errorf("order %s, latest attempt %q (%d attempts); want %s, %q", status, outcome, attempts, c.status, c.want)
			}
		})
	}
}

// An open attempt whose sender is alive and holds answers unrecorded (the
// database was away when FP answered) is neither sent again nor closed: the
// job snoozes until its sender records it. A sender that holds nothing
// does not hold it: the attempt is abandoned, and an invoice goes to review.
func TestSubmitOrderWorkerWaitsForHeldAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)
	th := throttle.New(pool, throttle.Config{Concurrency: 2, Heartbeat: 50 * time.Millisecond})
	runCtx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { defer close(stopped); _ = th.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-stopped })
	for deadline := time.Now().Add(10 * time.Second); th.Share() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("throttle has no share after 10 s")
		}
	}
	for i, c := range []struct {
		holding                 int
		status, outcome, result string
	}{
		{1, "submitting", "open", resSnoozed},
		{0, "needs_review", "abandoned", resCompleted},
	} {
		t.Run(fmt.Sprintf("holding=%d", c.holding), func(t *testing.T) {
			sender := fmt.Sprintf("other-process-%d", i)
			if _, err := pool.Exec(ctx, `INSERT INTO fp_senders (id, holding) VALUES ($1, $2)`, sender, c.holding); err != nil {
				t.Fatal(err)
			}
			id := addQueued(t, pool, fpclient.KindInvoice, fmt.Sprintf("H-%d", i), true)
			if _, err := pool.Exec(ctx, `UPDATE submit_attempts SET sender = $2 WHERE order_id = $1`, id, sender); err != nil {
				t.Fatal(err)
			}
			fake := answers["created"]()
			w := submitWorker(pool, fake)
			w.Cfg.Throttle = th
			got, err := work(ctx, t, pool, w, jobargs.SubmitOrderArgs{OrderID: id, Version: 1}, nil)
			var status, outcome string
			if err := pool.QueryRow(ctx, `SELECT o.status, coalesce(a.outcome, 'open') FROM orders o
				JOIN submit_attempts a ON a.order_id = o.id WHERE o.id = $1`, id).Scan(&status, &outcome); err != nil {
				t.Fatal(err)
			}
			if status != c.status || outcome != c.outcome || got != c.result || fake.calls.Load() != 0 {
				t.Errorf("got %s/%s, River %s (%v), %d requests; want %s/%s, River %s, none sent",
					status, outcome, got, err, fake.calls.Load(), c.status, c.outcome, c.result)
			}
		})
	}
}
