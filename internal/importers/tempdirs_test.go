package importers

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// setTempDir points os.TempDir at a fresh directory for this test (so not
// parallel) and returns it.
func setTempDir(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	return dir
}

func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// deadPID is the process id of a process that has ended.
func deadPID(t *testing.T) int {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no `true` to run:", err)
	}
	return cmd.ProcessState.Pid()
}

// TestCleanTempDirs: a killed run's directory (its process gone, older than
// this start) is removed with what it holds; a live process's, a newer one
// and what is not ours stay.
func TestCleanTempDirs(t *testing.T) {
	tmp := setTempDir(t)
	old := time.Now().Add(-time.Hour)
	mk := func(name string, mtime time.Time) string {
		p := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Join(p, "sub"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "excelize-123"), make([]byte, 1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dead := mk(tempPrefix+strconv.Itoa(deadPID(t))+"-1", old)
	legacy := mk(tempPrefix+"123456789", old) // an older version's name, without a pid
	live := mk(tempPrefix+strconv.Itoa(os.Getppid())+"-2", old)
	mine := mk(tempPrefix+strconv.Itoa(os.Getpid())+"-3", old)
	newer := mk(tempPrefix+"999999-4", time.Now().Add(time.Hour))
	other := mk("other-xlsx-5", old)

	removed, err := CleanTempDirs(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 || removed[0] != dead && removed[1] != dead {
		t.Errorf("removed %v, want %s and %s", removed, dead, legacy)
	}
	for _, p := range []string{dead, legacy} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s: still there (%v)", p, err)
		}
	}
	for _, p := range []string{live, mine, newer, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: removed (%v)", p, err)
		}
	}
}

// TestTempFilesRemovedOnEveryPath: a workbook large enough for excelize to
// unpack its sheet to a temporary file leaves nothing behind, read to its
// end and closed, refused after opening, or closed halfway.
func TestTempFilesRemovedOnEveryPath(t *testing.T) {
	tmp := setTempDir(t)
	dir := t.TempDir()
	// A sheet of ~6 MB of XML: over spillBytes, so excelize unpacks it.
	write := func(name string, header []any) string {
		f := excelize.NewFile()
		sw, err := f.NewStreamWriter("Sheet1")
		if err != nil {
			t.Fatal(err)
		}
		if err := sw.SetRow("A1", header); err != nil {
			t.Fatal(err)
		}
		for r := 2; r < 60_000; r++ {
			cell, _ := excelize.CoordinatesToCellName(1, r)
			if err := sw.SetRow(cell, []any{r, "private", "Kari Nordmann", "kari@example.com"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := sw.Flush(); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := f.SaveAs(p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.xlsx", []any{"order_ref", "customer_type", "customer_name", "email"})
	dup := write("dup.xlsx", []any{"order_ref", "order_ref", "customer_name", "email"})
	if names := leftovers(t, tmp); len(names) != 0 {
		t.Fatalf("before: %v", names)
	}

	sawTemp := false
	s, err := Open(good, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	sawTemp = len(leftovers(t, tmp)) > 0
	s.Close() // halfway
	if names := leftovers(t, tmp); len(names) != 0 || !sawTemp {
		t.Errorf("closed halfway: left %v (saw a temporary directory while open: %v)", names, sawTemp)
	}

	if _, err := ReadFile(good, Options{}); err != nil {
		t.Fatal(err)
	}
	if names := leftovers(t, tmp); len(names) != 0 {
		t.Errorf("read to the end: left %v", names)
	}

	if _, err := ReadFile(good, Options{MaxRows: 10}); err == nil {
		t.Fatal("MaxRows 10: no error")
	}
	if names := leftovers(t, tmp); len(names) != 0 {
		t.Errorf("refused at a row: left %v", names)
	}

	if _, err := Open(dup, Options{}); err == nil {
		t.Fatal("duplicate header: no error")
	}
	if names := leftovers(t, tmp); len(names) != 0 {
		t.Errorf("refused at the header: left %v", names)
	}
}
