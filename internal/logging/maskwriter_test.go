package logging

import (
	"strings"
	"testing"
)

// TestMaskingWriter: a personal number is masked even when it is printed
// in pieces, and the last unfinished line comes out at Flush.
func TestMaskingWriter(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	m := &maskingWriter{w: &out}
	for _, piece := range []string{"a.csv row 2 (\"010100", "12345\"): wrong control digit\n", "tail 01010012345"} {
		if _, err := m.Write([]byte(piece)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := out.String(), "a.csv row 2 (\"010100*****\"): wrong control digit\n"; got != want {
		t.Errorf("before Flush: %q, want %q", got, want)
	}
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.HasSuffix(got, "tail 010100*****") {
		t.Errorf("after Flush: %q", got)
	}
}
