// Package secretenv lets each secret setting come from a file instead of
// the environment: FP_TOKEN_FILE=/path for FP_TOKEN, and so on. A secret in
// a file is in no process environment (/proc/PID/environ, `systemctl show`)
// and fits systemd's LoadCredential=, which puts each credential as a file in
// $CREDENTIALS_DIRECTORY, readable by the service only.
//
// Wrap is applied once, in main, to the getenv the configuration is read
// with: the rest of the program sees FP_TOKEN as if it were set, and
// configuration loading does not change.
package secretenv

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Names are the settings that may come from NAME_FILE. The connection
// strings are among them because they may carry a password.
var Names = []string{
	"FP_TOKEN",
	"CALLBACK_SECRET",
	"FP_CHECKSUM_KEY",
	"WEB_SESSION_KEY",
	"REPORT_TOKENS",
	"DATABASE_URL",
	"ERP_DATABASE_URL",
}

// maxSize bounds a secret file: a secret is a line, not a document, and a
// wrong path (a log file, say) should fail rather than be read whole.
const maxSize = 64 << 10

// Wrap reads every NAME_FILE that is set and returns a getenv that answers
// NAME with the file's content, its trailing newline removed (editors and
// `echo` add one). Both NAME and NAME_FILE set is an error, as is a file
// that cannot be read or is empty; every problem is one line of the error,
// naming the settings and the file, never a value. A relative file name is
// taken in $CREDENTIALS_DIRECTORY when systemd sets it
// (LoadCredential=fp_token:/etc/fpexport/fp_token with FP_TOKEN_FILE=fp_token).
func Wrap(getenv func(string) string) (func(string) string, error) {
	values := map[string]string{}
	var problems []string
	for _, name := range Names {
		file := getenv(name + "_FILE")
		if file == "" {
			continue
		}
		if getenv(name) != "" {
			problems = append(problems, fmt.Sprintf("%s and %s_FILE are both set: set one of them", name, name))
			continue
		}
		if dir := getenv("CREDENTIALS_DIRECTORY"); dir != "" && !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		value, err := readSecret(file)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s_FILE: %s: %v", name, file, err))
			continue
		}
		values[name] = value
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return func(name string) string {
		if v, ok := values[name]; ok {
			return v
		}
		return getenv(name)
	}, nil
}

// readSecret reads one secret file. Its errors say what is wrong with the
// file (missing, not readable, a folder, too big, empty), never what is in it.
func readSecret(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the file: %w", withoutPath(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return "", fmt.Errorf("cannot read the file: %w", withoutPath(err))
	}
	if len(b) > maxSize {
		return "", fmt.Errorf("the file is larger than %d KB: not a secret file", maxSize>>10)
	}
	value := strings.TrimRight(string(b), "\r\n")
	if value == "" {
		return "", errors.New("the file is empty")
	}
	return value, nil
}

// withoutPath leaves out the path of an os error: the caller names it.
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
