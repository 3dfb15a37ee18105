// Package layering holds one test: the arrows between fpexport's packages.
// Every package's direct imports of the module's own packages are listed
// here, once; an import not listed fails the test, so a new arrow is a
// decision written down, not an accident. The pure core (mapping,
// importers, fpclient, money, orderstate, pii, callbackurl) imports no database,
// queue or HTTP server code at all.
package layering

import (
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/frontpayment/fpexport/"

// allowed: package → the module's packages it may import (directly).
var allowed = map[string][]string{
	// The pure core.
	"internal/callbackurl": {},
	"internal/fpclient":    {"internal/money"},
	"internal/importers":   {"internal/msg"},
	"internal/mapping":     {"internal/fpclient", "internal/money", "internal/msg", "internal/pii"},
	"internal/money":       {"internal/msg"},
	"internal/msg":         {}, // the catalogue of messages: ids, arguments, texts in bokmål and English
	"internal/orderstate":  {},
	"internal/pii":         {},

	// Leaves and helpers.
	"internal/logging":             {"internal/pii"},
	"internal/buildinfo":           {}, // which build runs (runtime/debug only)
	"internal/secretenv":           {}, // NAME_FILE settings, read once in main
	"internal/report":              {"internal/money", "internal/pii"},
	"internal/fpfake":              {"internal/fpclient"},
	"internal/metrics/metricstest": {},
	"internal/importers/bombtest":  {},
	"internal/jobargs":             {}, // job args and queue names: whoever inserts a job imports only this
	"migrations":                   {},

	// The database.
	"internal/store":    {"internal/logging", "internal/orderstate", "internal/report", "migrations"},
	"internal/testdb":   {"internal/store"},
	"internal/throttle": {"internal/fpclient"},
	"internal/metrics":  {"internal/buildinfo", "internal/orderstate", "internal/store"},

	// The owner of an order's status: every move of orders.status.
	"internal/orders": {"internal/money", "internal/msg", "internal/orderstate", "internal/store"},

	// What an operator reads and decides (worker status, retry, review, attention, orders, order).
	"internal/operator": {"internal/fpclient", "internal/jobargs", "internal/jobs", "internal/mapping", "internal/money", "internal/orders", "internal/orderstate", "internal/store"},

	// Jobs and the paths that feed them.
	"internal/jobs": {"internal/callbackurl", "internal/erp", "internal/fpclient", "internal/inbox", "internal/intake", "internal/jobargs", "internal/mapping",
		"internal/orders", "internal/orderstate", "internal/report", "internal/store", "internal/throttle"},
	"internal/intake": {"internal/fpclient", "internal/importers", "internal/jobargs", "internal/mapping", "internal/msg", "internal/orders", "internal/store"},
	"internal/inbox":  {"internal/importers", "internal/intake", "internal/mapping", "internal/msg", "internal/secretenv", "internal/store"},
	"internal/erp":    {"internal/importers", "internal/intake", "internal/mapping", "internal/secretenv", "internal/store"},

	// HTTP.
	"internal/httpapi": {"internal/callbackurl", "internal/fpclient", "internal/jobargs", "internal/money", "internal/report", "internal/store", "internal/throttle"},
	"internal/web":     {"internal/fpclient", "internal/httpapi", "internal/importers", "internal/intake", "internal/mapping", "internal/money", "internal/msg", "internal/operator", "internal/report", "internal/store"},

	// The daemon (`worker run`): its settings and wiring; daemontest starts it for tests.
	"internal/daemon": {"internal/erp", "internal/fpclient", "internal/httpapi", "internal/importers", "internal/inbox", "internal/intake", "internal/jobargs", "internal/jobs",
		"internal/logging", "internal/mapping", "internal/metrics", "internal/report", "internal/store", "internal/throttle", "internal/web"},
	"internal/daemon/daemontest": {"internal/daemon", "internal/fpfake", "internal/httpapi", "internal/intake", "internal/mapping", "internal/store", "internal/testdb"},

	// Commands: they parse flags and print; nothing imports them.
	"cmd/enqueue": {"internal/buildinfo", "internal/erp", "internal/importers", "internal/inbox", "internal/intake", "internal/logging", "internal/mapping", "internal/msg", "internal/secretenv", "internal/store"},
	"cmd/fpsim":   {"internal/fpfake"},
	"cmd/worker": {"internal/buildinfo", "internal/daemon", "internal/fpclient", "internal/fpfake", "internal/httpapi", "internal/intake", "internal/logging", "internal/money",
		"internal/msg", "internal/operator", "internal/orderstate", "internal/report", "internal/secretenv", "internal/store", "internal/web"},
}

// core packages may not import these (or anything under them), directly.
var core = []string{"internal/callbackurl", "internal/fpclient", "internal/importers", "internal/mapping", "internal/money", "internal/msg", "internal/orderstate", "internal/pii"}

var notInCore = []string{
	"github.com/jackc/pgx",                // the database
	"github.com/riverqueue/river",         // the queue
	"database/sql",                        // any database
	"net/http/httptest",                   // HTTP servers
	"github.com/prometheus/client_golang", // metrics endpoints
}

func TestArrows(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(path, 0)
		if err != nil || len(pkg.GoFiles) == 0 { // no Go files (or only tests): nothing to check
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		seen[rel] = true
		may, listed := allowed[rel]
		if !listed {
			t.Errorf("%s is not in the arrows table: add it, with what it may import", rel)
			return nil
		}
		for _, imp := range pkg.Imports {
			if own, ok := strings.CutPrefix(imp, module); ok {
				if strings.HasPrefix(own, "cmd/") {
					t.Errorf("%s imports %s: nothing imports a command", rel, own)
				} else if !slices.Contains(may, own) {
					t.Errorf("%s imports %s, an arrow the table does not allow", rel, own)
				}
				continue
			}
			if slices.Contains(core, rel) {
				for _, bad := range notInCore {
					if imp == bad || strings.HasPrefix(imp, bad+"/") {
						t.Errorf("%s (the pure core) imports %s", rel, imp)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg := range allowed {
		if !seen[pkg] {
			t.Errorf("the arrows table lists %s, which has no Go files any more: remove it", pkg)
		}
	}
}
