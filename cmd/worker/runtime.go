package main

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

func cmdMigrate(ctx context.Context, getenv func(string) string, logger *slog.Logger) error {
	cfg, err := loadConfig(getenv, requirement{})
	if err != nil {
		return err
	}
	if err := store.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	pool, err := openPool(ctx, cfg, 4)
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

func openPool(ctx context.Context, cfg *config, maxConns int32) (*pgxpool.Pool, error) {
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
func newPool(ctx context.Context, cfg *config, maxConns int32) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if pc.MaxConns < maxConns {
		pc.MaxConns = maxConns
	}
	return pgxpool.NewWithConfig(ctx, pc)
}

// openCurrentPool opens the pool and refuses a database whose schema is
// behind this binary's.
func openCurrentPool(ctx context.Context, cfg *config, maxConns int32) (*pgxpool.Pool, error) {
	pool, err := openPool(ctx, cfg, maxConns)
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

// openCommandDB is what a one-off command (status, retry, review, report
// --list) needs: its settings and a small pool on a current schema.
func openCommandDB(ctx context.Context, getenv func(string) string) (*config, *pgxpool.Pool, error) {
	cfg, err := loadConfig(getenv, requirement{})
	if err != nil {
		return nil, nil, err
	}
	pool, err := openCurrentPool(ctx, cfg, 2)
	if err != nil {
		return nil, nil, err
	}
	return cfg, pool, nil
}

// daemon is the running worker: River client and HTTP server on one pool.
type daemon struct {
	pool     *pgxpool.Pool
	river    *river.Client[pgx.Tx]
	throttle *throttle.Throttle
	doors    *doors // the listeners (doors.go)
	logger   *slog.Logger
	gaps     *gapWatch // windows of lost callbacks: callbackgaps.go
}

// newDaemon wires the worker. The pool must have migrated schema.
func newDaemon(ctx context.Context, cfg *config, pool *pgxpool.Pool, logger *slog.Logger, ln net.Listener) (*daemon, error) {
	fp, err := fpclient.New(fpclient.Config{BaseURL: cfg.FPBaseURL, Token: cfg.FPToken, Timeout: cfg.FPTimeout})
	if err != nil {
		return nil, err
	}
	obs, metricsHandler := newMetrics(pool)
	thr := throttle.New(pool, throttle.Config{
		Metrics:       obs,
		RatePerSecond: cfg.RateLimit,
		Concurrency:   cfg.Concurrency,
		Pause:         cmp.Or(cfg.authPause, time.Minute),
		Heartbeat:     cfg.throttleHeartbeat,
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
		Backoff:         cfg.retryBackoff,
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
	api := &httpapi.Server{Pool: pool, River: rc, CallbackSecret: cfg.CallbackSecret, ChecksumKey: cfg.ChecksumKey, StaleAfter: cfg.StaleAfter,
		Location: cfg.Location, Logger: logger, Metrics: obs, MetricsHandler: metricsHandler, Refused: &httpapi.Refusals{}}
	api.UntrustedLimits = cfg.untrustedLimits
	logCallbackMode(logger, cfg)
	ds, err := openDoors(cfg, pool, rc, logger, api, ln)
	if err != nil {
		return nil, err
	}
	gaps := &gapWatch{pool: pool, river: rc, refused: api.Refused, every: cmp.Or(cfg.aliveEvery, defaultAliveEvery), id: workerID(), logger: logger}
	return &daemon{pool: pool, river: rc, throttle: thr, doors: ds, logger: logger, gaps: gaps}, nil
}

// serve runs until ctx ends, then stops gracefully: the HTTP server stops
// taking callbacks, River lets running jobs finish (a job cut off at the soft
// stop timeout goes back to the queue), nothing is lost. The listeners open
// first and the database is waited for (dbwait.go).
func (d *daemon) serve(ctx context.Context) error {
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

func cmdRun(ctx context.Context, getenv func(string) string, logger *slog.Logger) error {
	cleanTempDirs(logger)
	cfg, err := loadConfig(getenv, requirement{submit: true, imports: true, reports: true, web: true})
	if err != nil {
		return err
	}
	// Not connected yet: serve waits for the database (dbwait.go).
	pool, err := newPool(ctx, cfg, int32(2*cfg.Concurrency)+25)
	if err != nil {
		return err
	}
	defer pool.Close()
	d, err := newDaemon(ctx, cfg, pool, logger, nil)
	if err != nil {
		return err
	}
	return d.serve(ctx)
}
