// Package logging builds the slog loggers fpexport uses: text on a terminal,
// JSON for machines, and quieter views of one logger for chatty libraries.
// Every logger it builds masks personal numbers (see maskAttr).
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"regexp"

	"github.com/frontpayment/fpexport/internal/pii"
)

// Formats are the values LOG_FORMAT takes; "" chooses by the output.
var Formats = []string{"text", "json"}

// New logs text when format is "text", JSON when it is "json", and when it
// is empty (LOG_FORMAT unset) text on a terminal and JSON otherwise: a
// person reads a terminal, a log collector (journald, a file) reads JSON.
func New(format string, w io.Writer) *slog.Logger {
	if format == "" {
		format = "json"
		if IsTerminal(w) {
			format = "text"
		}
	}
	opts := &slog.HandlerOptions{ReplaceAttr: maskAttr}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// IsTerminal reports whether w is a character device (a terminal), without
// a dependency: a pipe, a file or journald's socket is not.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// personalNumber is eleven digits standing alone, with or without a space
// after the date of birth ("01019012345", "010190 12345").
var personalNumber = regexp.MustCompile(`(^|[^0-9])([0-9]{6}) ?([0-9]{5})($|[^0-9])`)

// maskAttr hides anything that looks like a personal number in a string or
// error value. It is the safety net under the rule that personal numbers
// are never logged: a row error, FP's message or a driver's error may quote
// one. (An unrelated eleven-digit number is masked too; no id of ours or FP's
// is eleven bare digits.)
func maskAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); hasDigitRun(s) {
			a.Value = slog.StringValue(MaskPersonalNumbers(s))
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			if s := err.Error(); hasDigitRun(s) {
				a.Value = slog.StringValue(MaskPersonalNumbers(s))
			}
		}
	}
	return a
}

// MaskPersonalNumbers masks every personal number in s with
// pii.MaskPersonalNumber (birth date kept, personal digits hidden).
func MaskPersonalNumbers(s string) string {
	// Matches may share their border character; a second pass takes the
	// ones the first skipped ("01019012345 01019012345").
	for range 2 {
		s = personalNumber.ReplaceAllStringFunc(s, func(m string) string {
			sub := personalNumber.FindStringSubmatch(m)
			return sub[1] + pii.MaskPersonalNumber(sub[2]+sub[3]) + sub[4]
		})
	}
	return s
}

// hasDigitRun is a cheap test before the regexp: most values hold no run of
// six digits at all.
func hasDigitRun(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			if run++; run >= 6 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// AtLeast returns a logger that drops records below min; loggers derived
// from it with With keep the filter.
func AtLeast(l *slog.Logger, min slog.Level) *slog.Logger {
	return slog.New(minLevel{l.Handler(), min})
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(attrs), m.min}
}

func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{m.Handler.WithGroup(name), m.min}
}
