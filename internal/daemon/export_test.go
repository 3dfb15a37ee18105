package daemon

import "net/http"

// What the tests of package daemon_test reach inside.
var (
	WaitForDatabase = waitForDatabase
	RedactDBError   = redactDBError
	WithWebPage     = withWebPage
)

const (
	DBWaitMaxLine = dbWaitMaxLine
	DBWaitLogGap  = dbWaitLogGap
)

// PublicServer is the HTTP server of the public door (LISTEN_ADDR).
func PublicServer(d *Daemon) *http.Server { return d.doors.all[0].srv }

// WorkerID is the daemon's id in workers_alive.
func WorkerID(d *Daemon) string { return d.gaps.id }
