package metrics

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/store"
)

// scrapeTimeout bounds the database queries of one scrape: a slow database
// must not pile up scrapes (Prometheus's own timeout is 10 s by default).
const scrapeTimeout = 3 * time.Second

// queueStates are River's states of work not yet finished.
var queueStates = []string{"available", "scheduled", "retryable", "running"}

var (
	ordersDesc = prometheus.NewDesc("fpexport_orders",
		"Orders by status (all orders in the database, read at scrape time).", []string{"status"}, nil)
	queueJobsDesc = prometheus.NewDesc("fpexport_queue_jobs",
		"River jobs not finished, by queue and state (available, scheduled, retryable, running).", []string{"queue", "state"}, nil)
	queueAgeDesc = prometheus.NewDesc("fpexport_queue_oldest_job_age_seconds",
		"Age (now − created) of the oldest job not finished in the queue; 0 when the queue is empty.", []string{"queue"}, nil)
	dbUpDesc = prometheus.NewDesc("fpexport_database_up",
		"1 when the database answered this scrape's queries, 0 when not (then the order and queue gauges are missing).", nil, nil)
)

// dbCollector reads the gauges from the database at each scrape, so every
// worker process reports the same numbers and none is kept in memory.
type dbCollector struct {
	pool   *pgxpool.Pool
	queues []string
}

func newDBCollector(pool *pgxpool.Pool, queues []string) *dbCollector {
	return &dbCollector{pool: pool, queues: queues}
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- ordersDesc
	ch <- queueJobsDesc
	ch <- queueAgeDesc
	ch <- dbUpDesc
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	orders, err := store.OrderCountsByStatus(ctx, c.pool)
	var queues []store.QueueStat
	if err == nil {
		queues, err = store.QueueStats(ctx, c.pool)
	}
	if err != nil {
		ch <- prometheus.MustNewConstMetric(dbUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(dbUpDesc, prometheus.GaugeValue, 1)

	// Every known status, zeros included: a series that disappears cannot
	// be told from a scrape that failed.
	for _, s := range orderstate.All {
		ch <- prometheus.MustNewConstMetric(ordersDesc, prometheus.GaugeValue, float64(orders[string(s)]), string(s))
		delete(orders, string(s))
	}
	for s, n := range orders { // a status this binary does not know (a newer one wrote it)
		ch <- prometheus.MustNewConstMetric(ordersDesc, prometheus.GaugeValue, float64(n), s)
	}

	jobs := map[[2]string]int64{}
	oldest := map[string]time.Duration{}
	names := map[string]bool{}
	for _, q := range c.queues {
		names[q] = true
	}
	for _, q := range queues {
		jobs[[2]string{q.Queue, q.State}] = q.Jobs
		oldest[q.Queue] = max(oldest[q.Queue], q.OldestAge)
		names[q.Queue] = true
	}
	for q := range names {
		for _, st := range queueStates {
			ch <- prometheus.MustNewConstMetric(queueJobsDesc, prometheus.GaugeValue, float64(jobs[[2]string{q, st}]), q, st)
		}
		ch <- prometheus.MustNewConstMetric(queueAgeDesc, prometheus.GaugeValue, oldest[q].Seconds(), q)
	}
}
