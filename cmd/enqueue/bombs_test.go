package main

// The bombs of issue 10 against the real `enqueue` binary, as cron runs it:
// each is refused with its limit named, nothing is enqueued, the process's
// peak RSS stays under 300 MB, and its temporary folder is left empty.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/frontpayment/fpexport/internal/importers/bombtest"
)

// enqueueBinary builds `enqueue` (without -race) into a test folder.
func enqueueBinary(t *testing.T) string {
	t.Helper()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	bin := filepath.Join(t.TempDir(), "enqueue")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building enqueue: %v\n%s", err, out)
	}
	return bin
}

// child is one finished run of the binary.
type child struct {
	code    int
	out     string // stdout and stderr, a pipe each: not a terminal
	peakRSS int64  // bytes
}

// runChild runs bin with args, DATABASE_URL and TMPDIR, and reads its peak
// RSS from the kernel's accounting of the ended process.
func runChild(t *testing.T, bin, dbURL, tmp string, args ...string) child {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + tmp, "DATABASE_URL=" + dbURL, "LANG=en_US.UTF-8"}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errorsAs(err, &ee) {
		t.Fatalf("running enqueue: %v", err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatal("no rusage for the child")
	}
	return child{code: cmd.ProcessState.ExitCode(), out: out.String(), peakRSS: ru.Maxrss << 10} // Maxrss is in KB on Linux
}

func errorsAs(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}

func emptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left in the temporary folder: %s", e.Name())
	}
}

var fullPersonalNumber = regexp.MustCompile(`(^|[^0-9])[0-9]{6} ?[0-9]{5}($|[^0-9])`)

// TestBombsBoundedInEnqueue runs each bomb through `enqueue FILE` (and the
// lot through `enqueue --inbox`), one at a time: the machine is shared.
func TestBombsBoundedInEnqueue(t *testing.T) {
	if testing.Short() {
		t.Skip("writes gigabyte bombs (a megabyte each on disk)")
	}
	e := setup(t)
	bin := enqueueBinary(t)
	bombs := bombtest.Bombs(200 << 20)
	inbox := filepath.Join(e.dir, "inbox")
	if err := os.Mkdir(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, b := range bombs {
		p := filepath.Join(e.dir, b.File)
		if err := b.Write(p); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(p)
		tmp := t.TempDir()
		c := runChild(t, bin, e.url, tmp, "--lang", "nb", "--kind", "invoice", p) // the table's texts are bokmål
		t.Logf("%s (%d KB): exit %d, peak RSS %d MB", b.File, fi.Size()>>10, c.code, c.peakRSS>>20)
		if c.code != exitFatal || !strings.Contains(c.out, b.Want) || !strings.Contains(c.out, "nothing was enqueued") {
			t.Errorf("%s: exit %d, output:\n%.2000s\nwant exit %d and %q", b.File, c.code, c.out, exitFatal, b.Want)
		}
		if c.peakRSS >= bombtest.PeakRSSBound {
			t.Errorf("%s: peak RSS %d MB, bound %d MB", b.File, c.peakRSS>>20, bombtest.PeakRSSBound>>20)
		}
		emptyDir(t, tmp)
		if err := os.Rename(p, filepath.Join(inbox, b.File)); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM orders`); n != 0 {
		t.Errorf("%d orders enqueued, want none", n)
	}

	// The inbox: every bomb goes to failed/ with an error file saying why.
	tmp := t.TempDir()
	c := runChild(t, bin, e.url, tmp, "--lang", "nb", "--inbox", inbox, "--min-age", "0s", "--kind", "invoice")
	t.Logf("--inbox with %d bombs: exit %d, peak RSS %d MB", len(bombs), c.code, c.peakRSS>>20)
	if c.code != exitRejected {
		t.Errorf("--inbox: exit %d, want %d\n%.3000s", c.code, exitRejected, c.out)
	}
	if c.peakRSS >= bombtest.PeakRSSBound {
		t.Errorf("--inbox: peak RSS %d MB, bound %d MB", c.peakRSS>>20, bombtest.PeakRSSBound>>20)
	}
	emptyDir(t, tmp)
	for _, b := range bombs {
		if _, err := os.Stat(filepath.Join(inbox, "failed", b.File)); err != nil {
			t.Errorf("%s not in failed/: %v", b.File, err)
			continue
		}
		msgs, _ := filepath.Glob(filepath.Join(inbox, "failed", strings.TrimSuffix(b.File, filepath.Ext(b.File))+".error*.txt"))
		found := false
		for _, m := range msgs {
			if text, err := os.ReadFile(m); err == nil && strings.Contains(string(text), b.Want) {
				found = true
			}
		}
		if !found {
			entries, _ := os.ReadDir(filepath.Join(inbox, "failed"))
			var names []string
			for _, en := range entries {
				names = append(names, en.Name())
			}
			t.Errorf("%s: no error file in failed/ saying %q (failed/ holds %v)", b.File, b.Want, names)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM orders`); n != 0 {
		t.Errorf("%d orders enqueued, want none", n)
	}
}

// TestKilledRunLeftoversRemoved: a temporary folder a killed run left (its
// process gone, older than this start) is removed when enqueue starts.
func TestKilledRunLeftoversRemoved(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bin := enqueueBinary(t)
	tmp := t.TempDir()
	left := bombtest.KilledRunLeftover(t, tmp)
	c := runChild(t, bin, e.url, tmp, "--dry-run", "--kind", "invoice", e.file(t, "ok.csv", header+validRows))
	if c.code != exitOK {
		t.Fatalf("exit %d\n%s", c.code, c.out)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("the killed run's folder is still there (%v)", err)
	}
	if !strings.Contains(c.out, "removed temporary folders left by a stopped run") {
		t.Errorf("output does not say what was removed:\n%s", c.out)
	}
}

// TestPipedOutputMasksPersonalNumbers: what cron appends to its log holds
// no whole personal number, while the row is still named.
func TestPipedOutputMasksPersonalNumbers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	bin := enqueueBinary(t)
	// A wrong control digit: the row is rejected and its value quoted.
	row := "A-9,,private,Ola Nordmann,ola@example.no,+47,46567470,01010012345,,Gate 1,0150,Oslo,NO,no,,Vare,1,10.00,0,25,,,,,,,,\n"
	c := runChild(t, bin, e.url, t.TempDir(), "--dry-run", "--kind", "invoice", e.file(t, "pnr.csv", header+row))
	if c.code != exitRejected {
		t.Fatalf("exit %d\n%s", c.code, c.out)
	}
	if m := fullPersonalNumber.FindString(c.out); m != "" {
		t.Errorf("a whole personal number (%s) in the piped output:\n%s", m, c.out)
	}
	if !strings.Contains(c.out, "pnr.csv row 2") || !strings.Contains(c.out, "010100*****") {
		t.Errorf("the rejected row is not named with its masked value:\n%s", c.out)
	}
}
