package orders_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// statusWrites finds SQL that writes orders.status: an UPDATE of orders
// whose SET names status, or an INSERT INTO orders that lists a status
// column. It looks at a statement from UPDATE/INSERT up to the next
// WHERE/RETURNING/VALUES/SELECT, as the repository writes its SQL.
var (
	updateOrders = regexp.MustCompile(`(?is)UPDATE\s+orders\b(\s+\w+)?\s+SET\s(.*?)(\bWHERE\b|\bFROM\b|\bRETURNING\b|` + "`" + `|$)`)
	setStatus    = regexp.MustCompile(`(?i)(^|[\s,.])status\s*=`)
	insertOrders = regexp.MustCompile(`(?is)INSERT\s+INTO\s+orders\s*\(([^)]*)\)`)
	statusColumn = regexp.MustCompile(`(?i)(^|[\s,])status\s*(,|$)`)
)

// TestOnlyOrdersWritesStatus scans every non-test Go source of the module:
// no SQL outside internal/orders writes orders.status, and inside it only
// the door (door.go: move.stmt) does. Every status move goes through the
// owner and its transition table. A new order inserted by an import takes
// the column's default, queued, and names no status. A move's own SET
// columns cannot name status either: Postgres refuses a second assignment
// to the column the door sets.
func TestOnlyOrdersWritesStatus(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	owner := filepath.Join(root, "internal", "orders")
	door := filepath.Join(owner, "door.go")
	// testdb seeds orders in a given state for tests (testdb.AddOrder): test
	// support, never part of the program.
	seeds := filepath.Join(root, "internal", "testdb")
	found := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || filepath.Dir(path) == seeds {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, w := range statusWrites(string(src)) {
			switch {
			case path == door:
				found++
			case filepath.Dir(path) == owner:
				t.Errorf("%s:%d writes orders.status around the door (door.go): %s", rel, w.line, w.text)
			default:
				t.Errorf("%s:%d writes orders.status outside internal/orders: %s", rel, w.line, w.text)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The scan must see the door's own write, or it sees nothing.
	if found != 1 {
		t.Errorf("found %d status writes in door.go, want its one; the scan does not recognise it", found)
	}
}

type write struct {
	line int
	text string
}

func statusWrites(src string) []write {
	var out []write
	add := func(at int, text string) {
		line := strings.Count(src[:at], "\n") + 1
		sc := bufio.NewScanner(strings.NewReader(text))
		sc.Scan()
		out = append(out, write{line, strings.TrimSpace(sc.Text())})
	}
	for _, m := range updateOrders.FindAllStringSubmatchIndex(src, -1) {
		if setStatus.MatchString(src[m[4]:m[5]]) {
			add(m[0], src[m[0]:m[1]])
		}
	}
	for _, m := range insertOrders.FindAllStringSubmatchIndex(src, -1) {
		if statusColumn.MatchString(src[m[2]:m[3]]) {
			add(m[0], src[m[0]:m[1]])
		}
	}
	return out
}

// TestStatusWritesRecognised: the scanner's own check, on the shapes of
// SQL it must catch and those it must let pass.
func TestStatusWritesRecognised(t *testing.T) {
	for src, want := range map[string]int{
		"`UPDATE orders SET status = 'queued', status_at = now() WHERE id = $1`":                   1,
		"`WITH moved AS (\n\tUPDATE orders SET status = ` + status + `, status_at = now()":         1,
		"`UPDATE orders o SET batch_id = $1,\n\t\tversion = o.version + 1, status = $3 FROM c`":    1,
		"`UPDATE orders SET\n\tfp_status = $2,\n\tstatus = CASE WHEN $6 THEN $5 END WHERE id = 1`": 1,
		"`INSERT INTO orders (kind, order_ref, status) VALUES ($1, $2, $3)`":                       1,
		"`UPDATE orders SET fp_status = $2, updated_at = now() WHERE id = $1`":                     0,
		"`UPDATE orders SET last_error = $2 WHERE id = $1`":                                        0,
		"`INSERT INTO orders (kind, order_ref, fp_status) VALUES ($1, $2, $3)`":                    0,
		"`UPDATE submit_attempts SET status = 'x' WHERE id = $1`":                                  0,
	} {
		if got := len(statusWrites(src)); got != want {
			t.Errorf("%q: %d status writes found, want %d", src, got, want)
		}
	}
}
