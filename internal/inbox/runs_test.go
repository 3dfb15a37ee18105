package inbox

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// Every finished run is recorded, an empty folder's too (a quiet night is
// not a missing import), and a run that stops on an error is not.
func TestRunIsRecorded(t *testing.T) {
	t.Parallel()
	e := setup(t)
	finished := func() (time.Time, bool) {
		var at time.Time
		err := e.pool.QueryRow(context.Background(), `SELECT finished_at FROM import_runs WHERE source = $1`,
			"inbox:"+mustReal(t, e.dir)).Scan(&at)
		return at, err == nil
	}
	if _, ok := finished(); ok {
		t.Fatal("a run is recorded before any ran")
	}
	e.run(t) // nothing in the folder
	first, ok := finished()
	if !ok {
		t.Fatal("the run of an empty folder is not recorded")
	}
	e.put(t, "ok.csv", header+validRows, time.Minute)
	e.run(t)
	if second, ok := finished(); !ok || !second.After(first) {
		t.Errorf("the second run is not recorded: %v after %v (%v)", second, first, ok)
	}

	// A folder that is not there: no run.
	if _, err := Import(context.Background(), e.pool, e.inserter, filepath.Join(e.dir, "missing"), e.opt); err == nil {
		t.Fatal("a missing folder imported")
	}
	if n := e.count(t, `SELECT count(*) FROM import_runs`); n != 1 {
		t.Errorf("%d import runs recorded, want 1 (the missing folder's is not)", n)
	}
}

func mustReal(t *testing.T, dir string) string {
	t.Helper()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	return real
}
