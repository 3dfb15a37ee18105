package main

import (
	"sync"
	"testing"

	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/testdb"
)

func fpfakeNoCallbacks() fpfake.Config { return fpfake.Config{Plan: fpfake.NoCallbacks} }

// testdbURL is the connection string of the stack's database.
func testdbURL(s *stack) string { return s.pool.Config().ConnString() }

// testChecksumKey is FP_CHECKSUM_KEY of the test stacks, and the
// simulator's: with it a callback is applied as it comes. Tests of the
// keyless mode ask for a stack without it (withStackOptions).
const testChecksumKey = "test-checksum-key-0123456789"

// stackOptions change what newStack builds, for one test.
type stackOptions struct {
	keyless bool   // no FP_CHECKSUM_KEY: callbacks are confirmed with FP
	dbURL   string // the database (e.g. through testdb.NewOutage); "": a fresh one
}

var stackOpts sync.Map // *testing.T → stackOptions

// withStackOptions sets the options of the stacks t builds.
func withStackOptions(t *testing.T, o stackOptions) {
	stackOpts.Store(t, o)
	t.Cleanup(func() { stackOpts.Delete(t) })
}

func stackOptionsOf(t *testing.T) stackOptions {
	o, _ := stackOpts.Load(t)
	so, _ := o.(stackOptions)
	return so
}

func (o stackOptions) databaseURL(t *testing.T) string {
	if o.dbURL != "" {
		return o.dbURL
	}
	return testdb.URL(t)
}

func (o stackOptions) checksumKey() string {
	if o.keyless {
		return ""
	}
	return testChecksumKey
}
