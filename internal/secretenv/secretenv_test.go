package secretenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// A secret read from NAME_FILE is what getenv answers for NAME, trailing
// newline removed; other settings pass through; a relative name is taken in
// $CREDENTIALS_DIRECTORY (systemd's LoadCredential=).
func TestWrapReadsFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokenFile := write("fp_token", "tok-from-file\n")
	write("callback_secret", "cb-secret\r\n")
	getenv, err := Wrap(env(map[string]string{
		"FP_TOKEN_FILE":         tokenFile,
		"CALLBACK_SECRET_FILE":  "callback_secret",
		"CREDENTIALS_DIRECTORY": dir,
		"FP_CHECKSUM_KEY":       "key-from-env",
		"LISTEN_ADDR":           ":8080",
	}))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"FP_TOKEN":        "tok-from-file",
		"CALLBACK_SECRET": "cb-secret",
		"FP_CHECKSUM_KEY": "key-from-env",
		"LISTEN_ADDR":     ":8080",
		"WEB_SESSION_KEY": "",
	} {
		if got := getenv(name); got != want {
			t.Errorf("getenv(%s) = %q, want %q", name, got, want)
		}
	}
}

// Each mistake is a line of one error naming the settings and the file;
// no line carries a secret's value.
func TestWrapProblems(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "session_key")
	if err := os.WriteFile(secretFile, []byte("the-session-key-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unreadable := filepath.Join(dir, "unreadable")
	if err := os.WriteFile(unreadable, []byte("unreadable-secret-value"), 0o000); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{
		"WEB_SESSION_KEY":      "the-env-value-of-the-key",
		"WEB_SESSION_KEY_FILE": secretFile,
		"FP_TOKEN_FILE":        filepath.Join(dir, "missing"),
		"REPORT_TOKENS_FILE":   empty,
		"FP_CHECKSUM_KEY_FILE": dir, // a folder
	}
	wantLines := []string{
		"WEB_SESSION_KEY and WEB_SESSION_KEY_FILE are both set",
		"FP_TOKEN_FILE: " + filepath.Join(dir, "missing") + ": cannot read the file: no such file or directory",
		"REPORT_TOKENS_FILE: " + empty + ": the file is empty",
		"FP_CHECKSUM_KEY_FILE: " + dir + ": cannot read the file",
	}
	if os.Geteuid() != 0 { // root reads a mode-000 file all the same
		m["CALLBACK_SECRET_FILE"] = unreadable
		wantLines = append(wantLines, "CALLBACK_SECRET_FILE: "+unreadable+": cannot read the file: permission denied")
	}
	_, err := Wrap(env(m))
	if err == nil {
		t.Fatal("Wrap accepted them")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(wantLines) {
		t.Errorf("%d lines, want %d:\n%s", len(lines), len(wantLines), err)
	}
	for _, want := range wantLines {
		found := false
		for _, l := range lines {
			found = found || strings.Contains(l, want)
		}
		if !found {
			t.Errorf("no line says %q:\n%s", want, err)
		}
	}
	for _, secret := range []string{"the-session-key-value", "the-env-value-of-the-key", "unreadable-secret-value"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows a secret (%s):\n%s", secret, err)
		}
	}
}
