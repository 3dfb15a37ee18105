package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A built enqueue names its build with --version: the module version and
// VCS revision the Go tool stamped (as `go version -m` reads them back) and
// the Go version; it needs no database.
func TestVersionOfBuiltBinary(t *testing.T) {
	bin := enqueueBinary(t)
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	meta, err := exec.Command(goTool, "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	version, revision := "", "unknown" // unknown: built without VCS stamping
	for _, line := range strings.Split(string(meta), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod":
			version = f[2]
		case len(f) >= 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision="):
			revision = strings.TrimPrefix(f[1], "vcs.revision=")
		}
	}
	cmd := exec.Command(bin, "--version")
	cmd.Env = []string{"DATABASE_URL=postgres://nobody@127.0.0.1:1/none"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("enqueue --version: %v\n%s", err, out)
	}
	got := string(out)
	if version == "" || !strings.HasPrefix(got, "enqueue version "+version+",") || !strings.Contains(got, "revision "+revision) || !strings.Contains(got, runtime.Version()) {
		t.Errorf("enqueue --version printed %q; want version %s, revision %s and %s", got, version, revision, runtime.Version())
	}
}
