package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/store"
)

// Group commit for callbacks. One transaction per callback costs a commit
// (a WAL flush) and five round trips each; on two cores that tops out near
// 500 callbacks a second. So the callbacks that arrive while a transaction
// is being written wait for the next one and go in together: each is still
// stored with its apply job in one transaction, and answered only after
// that transaction committed. At a trickle a group is one callback and
// nothing waits; under load the groups grow and the cost per callback falls.
const (
	callbackWriters  = 4    // transactions at once (each holds one pooled connection)
	maxCallbackGroup = 500  // callbacks in one transaction at most
	callbackBacklog  = 4096 // callbacks waiting for a writer; beyond, handlers wait to queue
	writerIdle       = time.Second
	groupTimeout     = 30 * time.Second
)

// callbackWrite is one callback waiting to be stored.
type callbackWrite struct {
	in   store.CallbackIn
	done chan error // the group's outcome; in holds the final verdict
}

// callbackWriter stores callbacks in groups. Its writers start when
// callbacks arrive and stop after a second without any, so an idle server
// holds no goroutines or connections for it.
type callbackWriter struct {
	pool  *pgxpool.Pool
	river *river.Client[pgx.Tx]
	queue chan *callbackWrite

	mu      sync.Mutex
	running int
}

func newCallbackWriter(pool *pgxpool.Pool, rc *river.Client[pgx.Tx]) *callbackWriter {
	return &callbackWriter{pool: pool, river: rc, queue: make(chan *callbackWrite, callbackBacklog)}
}

// save stores one callback (with its job when accepted) and returns it with
// its final verdict (an accepted one may turn out an orphan).
func (cw *callbackWriter) save(ctx context.Context, in store.CallbackIn) (store.CallbackIn, error) {
	w := &callbackWrite{in: in, done: make(chan error, 1)}
	select {
	case cw.queue <- w:
	case <-ctx.Done():
		return in, ctx.Err()
	}
	cw.mu.Lock()
	if cw.running < callbackWriters {
		cw.running++
		go cw.run()
	}
	cw.mu.Unlock()
	// Once queued, the callback is written whatever becomes of the
	// request: wait for the outcome, which groupTimeout bounds.
	err := <-w.done
	return w.in, err
}

// run writes groups until the queue has been empty for writerIdle.
func (cw *callbackWriter) run() {
	idle := time.NewTimer(writerIdle)
	defer idle.Stop()
	for {
		select {
		case first := <-cw.queue:
			cw.writeGroup(cw.gather(first))
			idle.Reset(writerIdle)
		case <-idle.C:
			cw.mu.Lock()
			cw.running--
			// A callback queued just before running fell would find
			// every writer busy: take it on rather than strand it.
			if len(cw.queue) == 0 || cw.running >= callbackWriters {
				cw.mu.Unlock()
				return
			}
			cw.running++
			cw.mu.Unlock()
			idle.Reset(writerIdle)
		}
	}
}

// gather takes what is already waiting, up to maxCallbackGroup; it never
// waits for more.
func (cw *callbackWriter) gather(first *callbackWrite) []*callbackWrite {
	group := []*callbackWrite{first}
	for len(group) < maxCallbackGroup {
		select {
		case w := <-cw.queue:
			group = append(group, w)
		default:
			return group
		}
	}
	return group
}

// writeGroup stores a group and its apply jobs in one transaction and tells
// each callback the outcome. A failure fails them all (each is answered 503
// and FP sends it again); the rows it holds cannot fail one by one: values
// are made storable before, and order ids are checked in the transaction.
func (cw *callbackWriter) writeGroup(group []*callbackWrite) {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	ins := make([]store.CallbackIn, len(group))
	for i, w := range group {
		ins[i] = w.in
	}
	err := pgx.BeginFunc(ctx, cw.pool, func(tx pgx.Tx) error {
		ids, err := store.SaveCallbacks(ctx, tx, ins)
		if err != nil {
			return err
		}
		var params []river.InsertManyParams
		for i, in := range ins {
			switch in.Verdict {
			case store.VerdictAccepted:
				params = append(params, river.InsertManyParams{Args: jobargs.ApplyCallbackArgs{CallbackID: ids[i]}})
			case store.VerdictAwaitingFP:
				params = append(params, river.InsertManyParams{Args: jobargs.ConfirmCallbacksArgs{CallbackID: ids[i]}})
			}
		}
		if len(params) > 0 {
			_, err = cw.river.InsertManyTx(ctx, tx, params)
		}
		return err
	})
	for i, w := range group {
		w.in = ins[i]
		w.done <- err
	}
}
