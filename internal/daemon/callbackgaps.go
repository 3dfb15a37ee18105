package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/httpapi"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/jobs"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/throttle"
)

// Heartbeats (issue 10, point 9): every worker renews its row in
// workers_alive every defaultAliveEvery; a start that finds the newest beat
// older than aliveGapBeats of them knows no worker took FP's callbacks in
// between.
const (
	defaultAliveEvery = 15 * time.Second
	aliveGapBeats     = 3
	// gapCheckEvery is how often a window of refused callbacks is handed
	// to River (once the database takes the insert, it is back).
	gapCheckEvery = 2 * time.Second
	// gapStepTimeout bounds each database step, so an unreachable (not
	// refusing) database does not hold the loop.
	gapStepTimeout = 10 * time.Second
)

// registerKeyless adds the jobs of keyless callbacks and of the catch-up
// poll, both asking FP through the throttle shared with submissions.
func registerKeyless(workers *river.Workers, pool *pgxpool.Pool, fp *fpclient.Client, thr *throttle.Throttle, logger *slog.Logger) {
	river.AddWorker(workers, &jobs.ConfirmCallbacksWorker{Pool: pool, FP: fp, Throttle: thr, Logger: logger})
	river.AddWorker(workers, &jobs.CatchupPollWorker{Pool: pool, FP: fp, Throttle: thr, Logger: logger})
}

// logCallbackMode says at start how callbacks are trusted. Without
// FP_CHECKSUM_KEY the checksum has no secret, so each callback costs an FP
// request before it is applied: the key is recommended.
func logCallbackMode(logger *slog.Logger, cfg *Config) {
	if cfg.ChecksumKey == "" {
		logger.Warn("callbacks without checksum key: each callback is confirmed with FP before it is applied; set FP_CHECKSUM_KEY")
		return
	}
	logger.Info("callbacks checked with FP_CHECKSUM_KEY: a callback with a valid checksum is applied as it comes")
}

// gapWatch finds the windows in which FP's callbacks could not be stored
// and queues a catch-up poll for each: callbacks this process refused
// (Refusals), and time no worker ran at all (heartbeats).
type gapWatch struct {
	pool    *pgxpool.Pool
	river   *river.Client[pgx.Tx]
	refused *httpapi.Refusals
	every   time.Duration // heartbeat period
	id      string        // this process in workers_alive
	logger  *slog.Logger
}

// run beats and hands windows on until ctx ends; a last beat on the way out
// marks when this worker stopped. Database errors are retried at the next
// tick: an outage is what this is for.
func (g *gapWatch) run(ctx context.Context) {
	started, failing := false, false
	lastBeat := time.Time{}
	tick := time.NewTicker(min(gapCheckEvery, g.every))
	defer tick.Stop()
	for {
		step, cancel := context.WithTimeout(ctx, gapStepTimeout)
		var err error
		switch {
		case !started:
			if err = g.startGap(step); err == nil {
				started, lastBeat = true, time.Now()
			}
		case time.Since(lastBeat) >= g.every:
			if err = store.Beat(step, g.pool, g.id); err == nil {
				lastBeat = time.Now()
			}
		}
		// Once per failing streak: during an outage this fails every tick.
		if err != nil && ctx.Err() == nil && !failing {
			g.logger.Warn("worker heartbeat failed; trying again", "error", err)
		}
		failing = err != nil
		g.handOn(step)
		cancel()
		select {
		case <-ctx.Done():
			if started {
				stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				_ = store.Beat(stop, g.pool, g.id)
				cancel()
			}
			return
		case <-tick.C:
		}
	}
}

// startGap looks at the newest heartbeat before this worker's first: older
// than aliveGapBeats periods, no worker was running since, and FP's
// callbacks of that time went unanswered.
func (g *gapWatch) startGap(ctx context.Context) error {
	last, now, ok, err := store.LastBeat(ctx, g.pool)
	if err != nil {
		return err
	}
	if ok && now.Sub(last) > aliveGapBeats*g.every {
		args := jobargs.CatchupPollArgs{From: last.UTC(), To: now.UTC(), Reason: "no worker running"}
		if _, err := g.river.Insert(ctx, args, nil); err != nil {
			return fmt.Errorf("queueing the catch-up poll: %w", err)
		}
		g.logger.Warn("no worker ran for a while: orders open then are asked for at FP", "since", last.UTC().Format(time.RFC3339),
			"gap", now.Sub(last).Round(time.Second).String())
	}
	return store.Beat(ctx, g.pool, g.id)
}

// handOn queues the catch-up poll of a window of refused callbacks; when
// the database does not take it yet, the window is kept for the next tick.
func (g *gapWatch) handOn(ctx context.Context) {
	first, last, ok := g.refused.Take()
	if !ok {
		return
	}
	// A minute of slack on the window's end: the database's clock, which
	// stamps submitted_at, may differ a little from ours.
	args := jobargs.CatchupPollArgs{From: first.UTC(), To: last.Add(time.Minute).UTC(), Reason: "callbacks refused"}
	if _, err := g.river.Insert(ctx, args, nil); err != nil {
		g.refused.Add(first)
		g.refused.Add(last)
		return
	}
	g.logger.Warn("callbacks were refused while the database was away: orders open then are asked for at FP",
		"from", first.UTC().Format(time.RFC3339), "to", last.UTC().Format(time.RFC3339))
}

// workerID names this process in workers_alive: host, pid and a random
// part (a pid is reused after a restart).
func workerID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}
