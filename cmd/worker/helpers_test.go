package main

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/store"
)

// stack is daemontest's stack under the names this package's tests (and
// status_test.go and review_test.go, which define methods on it) use.
type stack struct {
	*daemontest.Stack
	pool *pgxpool.Pool
	sim  *fpfake.Server
	cfg  *daemon.Config
	d    *daemon.Daemon
}

func wrapStack(s *daemontest.Stack) *stack {
	return &stack{Stack: s, pool: s.Pool, sim: s.Sim, cfg: s.Cfg, d: s.D}
}

func startStack(t *testing.T, simCfg fpfake.Config) *stack {
	t.Helper()
	return wrapStack(daemontest.Start(t, simCfg))
}

// startStackWith lets a test adjust the worker's config before it starts.
func startStackWith(t *testing.T, simCfg fpfake.Config, adjust func(*daemon.Config)) *stack {
	t.Helper()
	return wrapStack(daemontest.StartWith(t, simCfg, adjust))
}

// newStack builds everything but does not start the worker (see run).
func newStack(t *testing.T, simCfg fpfake.Config, adjust func(*daemon.Config)) *stack {
	t.Helper()
	return wrapStack(daemontest.New(t, simCfg, adjust))
}

func (s *stack) run(t *testing.T) { s.Run(t) }

type viewRow = daemontest.ViewRow

func (s *stack) view(t *testing.T) map[string]viewRow { return s.View(t) }

func (s *stack) importCSV(t *testing.T, name, content string) []store.BatchOut {
	t.Helper()
	return s.ImportCSV(t, name, content)
}

func (s *stack) waitSettled(t *testing.T, since time.Time, callbacks bool) {
	t.Helper()
	s.WaitSettled(t, since, callbacks)
}

func fpfakeNoCallbacks() fpfake.Config { return fpfake.Config{Plan: fpfake.NoCallbacks} }

// testdbURL is the connection string of the stack's database.
func testdbURL(s *stack) string { return s.DBURL() }

const (
	testChecksumKey = daemontest.ChecksumKey
	testReportToken = daemontest.ReportToken
)

var getReport = daemontest.GetReport

var freeAddr = daemontest.FreeAddr

type lockedBuffer = daemontest.LockedBuffer

func newFaultStack(t *testing.T, simCfg fpfake.Config) *stack {
	t.Helper()
	return wrapStack(daemontest.NewFaults(t, simCfg))
}

func startFaultStack(t *testing.T, simCfg fpfake.Config) *stack {
	t.Helper()
	return wrapStack(daemontest.StartFaults(t, simCfg))
}

const (
	header    = daemontest.CSVHeader
	e2eFile   = daemontest.E2EFile
	fourKinds = daemontest.FourKinds
)
