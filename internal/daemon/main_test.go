package daemon_test

import (
	"os"
	"testing"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

// stack is daemontest's stack; the tests here add methods of their own.
type stack struct{ *daemontest.Stack }

func startStack(t *testing.T, simCfg fpfake.Config) *stack {
	t.Helper()
	return &stack{daemontest.Start(t, simCfg)}
}

// startStackWith lets a test adjust the worker's config before it starts.
func startStackWith(t *testing.T, simCfg fpfake.Config, adjust func(*daemon.Config)) *stack {
	t.Helper()
	return &stack{daemontest.StartWith(t, simCfg, adjust)}
}

// newStack builds everything but does not start the worker (see Run).
func newStack(t *testing.T, simCfg fpfake.Config, adjust func(*daemon.Config)) *stack {
	t.Helper()
	return &stack{daemontest.New(t, simCfg, adjust)}
}

// newFaultStack is daemontest.NewFaults: retries after milliseconds, no callbacks.
func newFaultStack(t *testing.T, simCfg fpfake.Config) *stack {
	t.Helper()
	return &stack{daemontest.NewFaults(t, simCfg)}
}

func startFaultStack(t *testing.T, simCfg fpfake.Config) *stack {
	t.Helper()
	return &stack{daemontest.StartFaults(t, simCfg)}
}
