package main

import (
	"bytes"
	"io"
	"time"

	"github.com/frontpayment/fpexport/internal/importers"
	"github.com/frontpayment/fpexport/internal/logging"
)

// processStart is when this process started: temporary folders changed
// before it, whose process is gone, are a killed run's.
var processStart = time.Now()

// maskingWriter masks personal numbers in what enqueue prints when no one
// is watching (cron appends it to a log file; see deploy/crontab): a
// rejected row names its value, which may be one. It works a line at a
// time, so a number printed in two pieces is still whole when masked; Flush
// writes the last, unfinished line.
type maskingWriter struct {
	w   io.Writer
	buf []byte
}

// maxPending bounds an unfinished line: past it, what is held is masked
// and written.
const maxPending = 64 << 10

func (m *maskingWriter) Write(p []byte) (int, error) {
	m.buf = append(m.buf, p...)
	i := bytes.LastIndexByte(m.buf, '\n')
	if i < 0 && len(m.buf) < maxPending {
		return len(p), nil
	}
	if i < 0 {
		i = len(m.buf) - 1
	}
	out := logging.MaskPersonalNumbers(string(m.buf[:i+1]))
	m.buf = append(m.buf[:0], m.buf[i+1:]...)
	if _, err := io.WriteString(m.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (m *maskingWriter) Flush() error {
	if len(m.buf) == 0 {
		return nil
	}
	out := logging.MaskPersonalNumbers(string(m.buf))
	m.buf = m.buf[:0]
	_, err := io.WriteString(m.w, out)
	return err
}

// maskUnlessTerminal wraps w in a maskingWriter unless it is a terminal (a
// person at the keyboard may see the numbers of their own file). The
// returned flush must be called before the process ends.
func maskUnlessTerminal(w io.Writer) (io.Writer, func()) {
	if logging.IsTerminal(w) {
		return w, func() {}
	}
	m := &maskingWriter{w: w}
	return m, func() { m.Flush() }
}

// cleanTempDirs removes the folders where a killed run unpacked workbooks
// (up to gigabytes each); said on stderr.
func cleanTempDirs(stderr io.Writer) {
	removed, err := importers.CleanTempDirs(processStart)
	if len(removed) > 0 {
		io.WriteString(stderr, "enqueue: removed temporary folders left by a stopped run: "+joinPaths(removed)+"\n")
	}
	if err != nil {
		io.WriteString(stderr, "enqueue: could not remove temporary folders left by a stopped run: "+err.Error()+"\n")
	}
}

func joinPaths(ps []string) string {
	var b bytes.Buffer
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p)
	}
	return b.String()
}
