package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/frontpayment/fpexport/internal/testdb"
)

// The built worker reads its secrets from NAME_FILE (systemd's
// LoadCredential=): DATABASE_URL from a file (trailing newline and all)
// reaches the database; a secret set both ways stops it at once, naming
// both settings and not the value.
func TestSecretFilesInBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the worker binary")
	}
	bin := workerBinary(t)
	// A database of its own that only the file names: `worker migrate`
	// creates it, which it could not have done from any other setting.
	ctx := context.Background()
	u, err := url.Parse(testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("fpexport_secretfile_%d", time.Now().UnixNano())
	admin, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close(ctx)
	})
	u.Path = "/" + name
	creds := t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, "database_url"), []byte(u.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(creds, "fp_token"), []byte("token-in-the-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "CREDENTIALS_DIRECTORY=" + creds, "DATABASE_URL_FILE=database_url"}

	cmd := exec.Command(bin, "migrate")
	cmd.Env = base
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("worker migrate with DATABASE_URL_FILE: %v\n%s", err, out)
	}
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || !exists {
		t.Fatalf("the database DATABASE_URL_FILE names was not created (%v)", err)
	}

	cmd = exec.Command(bin, "migrate")
	cmd.Env = append(base, "FP_TOKEN_FILE=fp_token", "FP_TOKEN=token-in-the-environment")
	out, err = cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("worker migrate with FP_TOKEN and FP_TOKEN_FILE: %v, want exit code 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "worker: FP_TOKEN and FP_TOKEN_FILE are both set") {
		t.Errorf("the error does not name both settings:\n%s", out)
	}
	if strings.Contains(string(out), "token-in-the") {
		t.Errorf("the error shows the secret:\n%s", out)
	}
}
