package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A built worker names its build: `worker version` and `worker --version`
// print the module version and VCS revision the Go tool stamped into the
// binary (as `go version -m` reads them back) and the Go version. (Built
// from a git worktree or with -buildvcs=false nothing is stamped: then the
// binary says "unknown", and so must the output.)
func TestVersionOfBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the worker binary")
	}
	bin := workerBinary(t)
	version, revision := stampedBuild(t, bin)
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(bin, arg).CombinedOutput()
		if err != nil {
			t.Fatalf("worker %s: %v\n%s", arg, err, out)
		}
		got := string(out)
		if !strings.HasPrefix(got, "worker version "+version+",") || !strings.Contains(got, "revision "+revision) || !strings.Contains(got, runtime.Version()) {
			t.Errorf("worker %s printed %q; want version %s, revision %s and %s", arg, got, version, revision, runtime.Version())
		}
	}
}

// stampedBuild reads the main module's version and the VCS revision of a
// binary with `go version -m`; the revision is "unknown" when none is stamped.
func stampedBuild(t *testing.T, bin string) (version, revision string) {
	t.Helper()
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(goTool, "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	revision = "unknown"
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod":
			version = f[2]
		case len(f) >= 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision="):
			revision = strings.TrimPrefix(f[1], "vcs.revision=")
		}
	}
	if version == "" {
		t.Fatalf("go version -m shows no main module:\n%s", out)
	}
	return version, revision
}
