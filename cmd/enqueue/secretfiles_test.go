package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The built enqueue reads DATABASE_URL from DATABASE_URL_FILE; set both
// ways it stops before touching anything (exit 2), naming both settings
// and not the value.
func TestSecretFilesInBuiltBinary(t *testing.T) {
	bin := enqueueBinary(t)
	file := filepath.Join(t.TempDir(), "database_url")
	if err := os.WriteFile(file, []byte("postgres://kari:file-password@127.0.0.1:1/none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--dry-run", "missing.csv")
	cmd.Env = []string{"DATABASE_URL_FILE=" + file, "DATABASE_URL=postgres://kari:env-password@127.0.0.1:1/none"}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitFatal {
		t.Fatalf("enqueue with DATABASE_URL and DATABASE_URL_FILE: %v, want exit code %d\n%s", err, exitFatal, out)
	}
	if !strings.Contains(string(out), "enqueue: DATABASE_URL and DATABASE_URL_FILE are both set") {
		t.Errorf("the error does not name both settings:\n%s", out)
	}
	if strings.Contains(string(out), "password") {
		t.Errorf("the error shows the secret:\n%s", out)
	}
}
