package importers

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tempPrefix names the directories where excelize unpacks a workbook's
// large parts (up to Limits.SheetBytes each). The process id in the name
// lets CleanTempDirs tell a dead run's directory from a live one's.
const tempPrefix = "fpexport-xlsx-"

func makeTempDir() (string, error) {
	return os.MkdirTemp("", tempPrefix+strconv.Itoa(os.Getpid())+"-")
}

// CleanTempDirs removes what a killed run left in the system's temporary
// folder: our own directories (tempPrefix) last changed before since (the
// process's start), whose process is gone. A directory of a process still
// running (another worker, an enqueue from cron) is left alone. It returns
// the directories removed; an error only when the folder cannot be listed.
func CleanTempDirs(since time.Time) ([]string, error) {
	dir := os.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(since) {
			continue
		}
		if pid, ok := tempDirPID(e.Name()); ok && processAlive(pid) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	return removed, errors.Join(errs...)
}

// tempDirPID reads the process id from "fpexport-xlsx-<pid>-<random>";
// false for a directory of an older version, named without one.
func tempDirPID(name string) (int, bool) {
	rest := strings.TrimPrefix(name, tempPrefix)
	s, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(s)
	return pid, err == nil && pid > 0
}

// processAlive: signal 0 checks that the process exists (EPERM: it does,
// as another user's). Our own pid counts as alive.
func processAlive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
