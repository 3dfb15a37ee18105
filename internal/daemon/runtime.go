// Package daemon is `worker run`: its settings from the environment, and the
// wiring of the River client, the throttle, the HTTP listeners, the web page,
// the periodic jobs (imports, the nightly report, repolls, pruning) and the
// watch over lost callbacks. cmd/worker only parses flags and calls it;
// internal/daemon/daemontest starts it for tests.
package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/httpapi"
	"github.com/frontpayment/fpexport/internal/jobs"
	"github.com/frontpayment/fpexport/internal/logging"
	"github.com/frontpayment/fpexport/internal/store"
	"github.com/frontpayment/fpexport/internal/throttle"
)

// Migrate brings the database to the current schema, creating it first
// when it does not exist (`worker migrate`).
func Migrate(ctx context.Context, cfg *Config, logger *slog.Logger) error {
	if err := store.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	pool, err := OpenPool(ctx, cfg, 4)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool, logger); err != nil {
		return err
	}
	logger.Info("database is at the current schema")
	return nil
}

// OpenPool opens a pool of at least maxConns connections and checks that
// the database answers.
func OpenPool(ctx context.Context, cfg *Config, maxConns int32) (*pgxpool.Pool, error) {
	pool, err := newPool(ctx, cfg, maxConns)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	return pool, nil
}

// newPool makes the pool without connecting: pgxpool connects on first use.
func newPool(ctx context.Context, cfg *Config, maxConns int32) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if pc.MaxConns < maxConns {
		pc.MaxConns = maxConns
	}
	return pgxpool.NewWithConfig(ctx, pc)
}

// OpenCurrentPool opens the pool and refuses a database whose schema is
// behind this binary's.
func OpenCurrentPool(ctx context.Context, cfg *Config, maxConns int32) (*pgxpool.Pool, error) {
	pool, err := OpenPool(ctx, cfg, maxConns)
	if err != nil {
		return nil, err
	}
	pending, err := store.PendingMigrations(ctx, pool)
	if err == nil && len(pending) > 0 {
		err = fmt.Errorf("database schema is not current (pending %v): run `worker migrate` first", pending)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// OpenCommandDB is what a one-off command (status, retry, review, report
// --list) needs: its settings and a small pool on a current schema.
func OpenCommandDB(ctx context.Context, getenv func(string) string) (*Config, *pgxpool.Pool, error) {
	cfg, err := LoadConfig(getenv, Need{})
	if err != nil {
		return nil, nil, err
	}
	pool, err := OpenCurrentPool(ctx, cfg, 2)
	if err != nil {
		return nil, nil, err
	}
	return cfg, pool, nil
}

// Daemon is the running worker: River client and HTTP server on one pool.
type Daemon struct {
	pool     *pgxpool.Pool
	river    *river.Client[pgx.Tx]
	throttle *throttle.Throttle
	doors    *doors // the listeners (doors.go)
	logger   *slog.Logger
	gaps     *gapWatch // windows of lost callbacks: callbackgaps.go
}

// River is the daemon's River client (tests insert jobs with it).
func (d *Daemon) River() *river.Client[pgx.Tx] { return d.river }

// Throttle is the daemon's share of FP_CONCURRENCY and its pause.
func (d *Daemon) Throttle() *throttle.Throttle { return d.throttle }

// Running reports whether Serve has reached the database and opened the
// doors (before, every path but /healthz and /readyz answers 503).
func (d *Daemon) Running() bool { return d.doors.gate.IsOpen() }

// Addr is the address of the listener named "public" (LISTEN_ADDR) or
// "admin" (ADMIN_LISTEN_ADDR); "" when there is none.
func (d *Daemon) Addr(name string) string { return d.doors.addr(name) }

// New wires the worker. The pool must have migrated schema.
func New(ctx context.Context, cfg *Config, pool *pgxpool.Pool, logger *slog.Logger, ln net.Listener) (*Daemon, error) {
	fp, err := fpclient.New(fpclient.Config{BaseURL: cfg.FPBaseURL, Token: cfg.FPToken, Timeout: cfg.FPTimeout})
	if err != nil {
		return nil, err
	}
	obs, metricsHandler := newMetrics(pool)
	thr := throttle.New(pool, throttle.Config{
		Metrics:       obs,
		RatePerSecond: cfg.RateLimit,
		Concurrency:   cfg.Concurrency,
		Pause:         cmp.Or(cfg.AuthPause, time.Minute),
		Heartbeat:     cfg.ThrottleHeartbeat,
		HoldGrace:     cfg.HoldGrace,
		Logger:        logger,
	})
	workers := river.NewWorkers()
	river.AddWorker(workers, &jobs.SubmitOrderWorker{Pool: pool, Cfg: jobs.SubmitConfig{
		FP:              fp,
		CallbackBaseURL: cfg.CallbackBaseURL,
		CallbackSecret:  cfg.CallbackSecret,
		SuccessURL:      cfg.SuccessURL,
		FailureURL:      cfg.FailureURL,
		Throttle:        thr,
		Location:        cfg.Location,
		RequestTimeout:  cfg.FPTimeout,
		Backoff:         cfg.RetryBackoff,
		Logger:          logger,
		Metrics:         obs,
	}})
	river.AddWorker(workers, &jobs.ApplyCallbackWorker{Pool: pool, Logger: logger})
	// Registered even when REPOLL_EVERY is off, so River knows the kind.
	river.AddWorker(workers, &jobs.RepollWorker{Pool: pool, FP: fp, Throttle: thr, After: cfg.RepollAfter, Logger: logger})
	registerKeyless(workers, pool, fp, thr, logger)
	// Twice the concurrency in River workers: the throttle lets only this
	// process's share of FP_CONCURRENCY send at once, and the others do
	// their database work meanwhile.
	queues := jobs.Queues(2 * cfg.Concurrency)
	periodic := scheduleImports(cfg, pool, logger, workers, queues)
	if cfg.RepollEvery > 0 {
		periodic = append(periodic, jobs.ScheduledRepoll(cfg.RepollEvery))
	}
	periodic = append(periodic, scheduleReport(cfg, pool, logger, workers)...)
	periodic = append(periodic, schedulePrune(cfg, pool, logger, workers)...)
	periodic = append(periodic, scheduleSearchIndex(pool, logger, workers)...)

	jobTimeout := cfg.FPTimeout + 15*time.Second
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:       queues,
		Workers:      workers,
		PeriodicJobs: periodic,
		JobTimeout:   jobTimeout,
		// River's default is an hour; a crashed worker's jobs should come
		// back within minutes. Just above the job timeout is safe: a job
		// still running then has been cancelled by its own timeout. (An
		// import job has a timeout of its own, an hour, which the rescuer
		// respects: it is not taken for stuck while it may still run.)
		RescueStuckJobsAfter: jobTimeout + time.Minute,
		SoftStopTimeout:      cfg.FPTimeout + 5*time.Second,
		Logger:               logging.AtLeast(logger, slog.LevelWarn), // River's own info chatter stays out
	})
	if err != nil {
		return nil, err
	}
	api := &httpapi.Server{Pool: pool, River: rc, CallbackSecret: cfg.CallbackSecret, ChecksumKey: cfg.ChecksumKey, StaleAfter: cfg.StaleAfter, ReportLang: cfg.ReportLang,
		Location: cfg.Location, Logger: logger, Metrics: obs, MetricsHandler: metricsHandler, Refused: &httpapi.Refusals{}}
	api.UntrustedLimits = cfg.UntrustedLimits
	logCallbackMode(logger, cfg)
	ds, err := openDoors(cfg, pool, rc, &pacedFP{fp: fp, throttle: thr}, logger, api, ln)
	if err != nil {
		return nil, err
	}
	gaps := &gapWatch{pool: pool, river: rc, refused: api.Refused, every: cmp.Or(cfg.AliveEvery, defaultAliveEvery), id: workerID(), logger: logger}
	return &Daemon{pool: pool, river: rc, throttle: thr, doors: ds, logger: logger, gaps: gaps}, nil
}

// Serve runs until ctx ends, then stops gracefully: the HTTP server stops
// taking callbacks, River lets running jobs finish (a job cut off at the soft
// stop timeout goes back to the queue), nothing is lost. The listeners open
// first and the database is waited for (dbwait.go).
func (d *Daemon) Serve(ctx context.Context) error {
	httpErr := d.doors.serve()
	d.logger.Info("listening", d.doors.logAttrs()...)
	if err := waitForDatabase(ctx, d.pool, d.logger, d.doors.gate); err != nil {
		d.doors.close()
		if ctx.Err() != nil { // asked to stop while waiting: nothing started
			d.logger.Info("stopped before the database was reachable")
			return nil
		}
		return err
	}
	// The throttle's heartbeat outlives River's stop, so jobs finishing
	// during a graceful stop keep their share.
	thrCtx, stopThrottle := context.WithCancel(context.WithoutCancel(ctx))
	thrDone := make(chan struct{})
	go func() { defer close(thrDone); _ = d.throttle.Run(thrCtx) }()
	defer func() { stopThrottle(); <-thrDone }()
	if err := d.river.Start(ctx); err != nil {
		d.doors.close()
		if ctx.Err() != nil { // asked to stop before it started: nothing to finish
			return nil
		}
		return fmt.Errorf("starting River: %w", err)
	}
	gapsCtx, stopGaps := context.WithCancel(ctx)
	gapsDone := make(chan struct{})
	go func() { defer close(gapsDone); d.gaps.run(gapsCtx) }()
	defer func() { stopGaps(); <-gapsDone }()
	d.doors.gate.Open()
	d.logger.Info("worker running", d.doors.logAttrs()...)
	var err error
	select {
	case <-ctx.Done():
	case err = <-httpErr:
	}
	d.logger.Info("stopping: finishing running jobs")
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	d.doors.shutdown(shutdown)
	if stopErr := d.river.Stop(shutdown); stopErr != nil && !errors.Is(stopErr, context.Canceled) {
		d.logger.Warn("River stop", "error", stopErr)
	}
	d.giveUpHeldAnswers()
	d.logger.Info("stopped")
	return err
}

// Run is `worker run`: the daemon on cfg (loaded with NeedAll) until ctx
// ends.
func Run(ctx context.Context, cfg *Config, logger *slog.Logger) error {
	// Not connected yet: Serve waits for the database (dbwait.go).
	pool, err := newPool(ctx, cfg, int32(2*cfg.Concurrency)+25)
	if err != nil {
		return err
	}
	defer pool.Close()
	d, err := New(ctx, cfg, pool, logger, nil)
	if err != nil {
		return err
	}
	return d.Serve(ctx)
}
