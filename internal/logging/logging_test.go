package logging

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestAtLeastSurvivesWith(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := AtLeast(New("json", &buf), slog.LevelWarn).With("k", "v").WithGroup("g")
	l.Info("hidden")
	l.Warn("shown")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, "shown") || !strings.Contains(out, `"k":"v"`) {
		t.Errorf("got %q", out)
	}
}

// Unset LOG_FORMAT: JSON when the output is not a terminal (a buffer, a
// pipe, journald); explicit text and json win.
func TestFormatByOutput(t *testing.T) {
	t.Parallel()
	for format, wantJSON := range map[string]bool{"": true, "json": true, "text": false} {
		var buf bytes.Buffer
		New(format, &buf).Info("hello", "k", "v")
		if got := strings.HasPrefix(buf.String(), "{"); got != wantJSON {
			t.Errorf("LOG_FORMAT=%q: %q", format, buf.String())
		}
	}
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("a buffer taken for a terminal")
	}
}

// Personal numbers are masked wherever they appear in a line: message,
// string values, errors, groups; other numbers stay.
func TestPersonalNumbersMasked(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		l := New(format, &buf).With("order_ref", "R-1")
		l.Warn("row rejected: 01010012356", "detail", `orders.csv row 3, column personal_number ("01010012356"): bad control digits`,
			"error", errors.New("value 010100 12356 refused"), slog.Group("g", "pn", "01010012356"),
			"amount_ore", 450000, "phone", "4746567468", "created_at", "1732272000", "ms", "1732272000123")
		out := buf.String()
		if strings.Contains(out, "01010012356") || strings.Contains(out, "12356") {
			t.Errorf("%s: a personal number survived: %s", format, out)
		}
		if strings.Count(out, "010100*****") != 4 {
			t.Errorf("%s: want four masked numbers: %s", format, out)
		}
		for _, keep := range []string{"450000", "4746567468", "1732272000", "1732272000123", "R-1"} {
			if !strings.Contains(out, keep) {
				t.Errorf("%s: %s was masked: %s", format, keep, out)
			}
		}
	}
}

func TestMaskPersonalNumbers(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"01010012356":               "010100*****",
		"a 01010012356 01010012356": "a 010100***** 010100*****",
		"(01010012356)":             "(010100*****)",
		"010100123567":              "010100123567", // twelve digits: not one
		"no digits":                 "no digits",
	} {
		if got := MaskPersonalNumbers(in); got != want {
			t.Errorf("MaskPersonalNumbers(%q) = %q, want %q", in, got, want)
		}
	}
}
