package logging

import (
	"bytes"
	"io"
)

// maskingWriter masks personal numbers in what a command prints when no
// one is watching (cron appends enqueue's output to a log file; see
// deploy/crontab): a rejected row names its value, which may be one. It works a line at a
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
	out := MaskPersonalNumbers(string(m.buf[:i+1]))
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
	out := MaskPersonalNumbers(string(m.buf))
	m.buf = m.buf[:0]
	_, err := io.WriteString(m.w, out)
	return err
}

// MaskUnlessTerminal wraps w in a maskingWriter unless it is a terminal (a
// person at the keyboard may see the numbers of their own file). The
// returned flush must be called before the process ends.
func MaskUnlessTerminal(w io.Writer) (io.Writer, func()) {
	if IsTerminal(w) {
		return w, func() {}
	}
	m := &maskingWriter{w: w}
	return m, func() { m.Flush() }
}
