package logging

import (
	"bytes"
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
