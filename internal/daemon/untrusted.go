package daemon

import (
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/jobs"
)

// loadUntrusted reads UNTRUSTED_CALLBACK_RETENTION: how long untrusted
// callbacks (and the counts of those not stored) are kept. At least an
// hour, so that a typo such as "720s" cannot delete a day's evidence
// before anyone looked.
func (c *Config) loadUntrusted(get func(name, def string) string) []string {
	d, err := time.ParseDuration(get("UNTRUSTED_CALLBACK_RETENTION", jobs.DefaultUntrustedRetention.String()))
	if err != nil || d < time.Hour {
		return []string{"UNTRUSTED_CALLBACK_RETENTION: must be a duration of at least 1h such as 720h"}
	}
	c.UntrustedRetention = d
	return nil
}

// schedulePrune wires the retention job of untrusted callbacks: its worker,
// and the periodic job that River's leader inserts every hour.
func schedulePrune(cfg *Config, pool *pgxpool.Pool, logger *slog.Logger, workers *river.Workers) []*river.PeriodicJob {
	retention := cfg.UntrustedRetention
	if retention == 0 { // a config not from LoadConfig (tests)
		retention = jobs.DefaultUntrustedRetention
	}
	river.AddWorker(workers, &jobs.PruneUntrustedWorker{Pool: pool, Retention: retention, Logger: logger})
	return []*river.PeriodicJob{jobs.ScheduledPruneUntrusted()}
}
