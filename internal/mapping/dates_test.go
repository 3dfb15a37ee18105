package mapping

import (
	"strings"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"2026-11-20", "2026-11-20"},
		{"2026-1-5", "2026-01-05"},
		{"20.11.2026", "2026-11-20"},
		{"5.1.2026", "2026-01-05"},
		{"05.01.2026", "2026-01-05"},
		{" 20.11.2026 ", "2026-11-20"},
		{"2026-11-20 00:00:00", "2026-11-20"},
		{"2026-11-20T00:00:00", "2026-11-20"},
		{"20.11.2026 00:00", "2026-11-20"},
		{"46000", "2025-12-09"},
		{"46000.5", "2025-12-09"},
		{"45658", "2025-01-01"},
		{"46346", "2026-11-20"},
		{"2028-02-29", "2028-02-29"},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if err != nil {
			t.Errorf("ParseDate(%q): got error %q, want %s", tt.in, err, tt.want)
			continue
		}
		if formatDate(got) != tt.want {
			t.Errorf("ParseDate(%q): got %s, want %s", tt.in, formatDate(got), tt.want)
		}
	}
	for _, in := range []string{
		"", "2026-02-30", "31.11.2026", "20.11.26", "20/11/2026", "11/20/2026", "2026-11-20 12:00",
		"20.11", "1999-12-31", "2100-01-01", "0", "60", "999999", "20261120", "tomorrow", "2026-13-01",
	} {
		if got, err := ParseDate(in); err == nil {
			t.Errorf("ParseDate(%q): got %s, want an error", in, formatDate(got))
		}
	}
}

func TestExcelSerialDate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int
		want string
	}{
		{1, "1900-01-01"},
		{59, "1900-02-28"},
		{61, "1900-03-01"}, // after Excel's phantom 1900-02-29
		{36526, "2000-01-01"},
		{45658, "2025-01-01"},
		{46000, "2025-12-09"},
		{73050, "2099-12-31"},
	}
	for _, tt := range tests {
		got, ok := excelSerialDate(tt.n)
		if !ok || formatDate(got) != tt.want {
			t.Errorf("excelSerialDate(%d): got %s, %v, want %s", tt.n, formatDate(got), ok, tt.want)
		}
	}
	for _, n := range []int{0, -1, 60} {
		if got, ok := excelSerialDate(n); ok {
			t.Errorf("excelSerialDate(%d): got %s, want not ok", n, formatDate(got))
		}
	}
}

func TestDayOfAcrossMidnight(t *testing.T) {
	t.Parallel()
	oslo := oslo()
	// 23:30 UTC on 20 November is 00:30 on 21 November in Oslo (CET).
	got := formatDate(dayOf(time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC), oslo))
	if got != "2026-11-21" {
		t.Errorf("dayOf: got %s, want 2026-11-21", got)
	}
	// daysBetween over the DST change (29 March 2026).
	a, _ := ParseDate("2026-03-28")
	b, _ := ParseDate("2026-03-30")
	if n := daysBetween(a, b); n != 2 {
		t.Errorf("daysBetween over DST: got %d, want 2", n)
	}
}

// FuzzParseDate: never panics; an accepted date lies in the year range and
// its ISO form parses back to itself.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-11-20", "20.11.2026", "5.1.2026", "46000", "46000.5", "60", "2026-02-30", "2026-11-20 00:00", "44884", "14 dager", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseDate1904(s); err == nil {
			if d.Year() < minYear || d.Year() > maxYear {
				t.Fatalf("ParseDate1904(%q) = %s, out of range", s, formatDate(d))
			}
			_, serial, _ := excelSerial(strings.TrimSpace(s), false)
			if d1900, err := ParseDate(s); err == nil && !serial && !d1900.Equal(d) {
				t.Fatalf("ParseDate1904(%q) = %s, ParseDate = %s: a written date does not depend on the date system", s, formatDate(d), formatDate(d1900))
			}
		}
		if n, err := ParseDueDays(s); err == nil && (n < 0 || n > MaxDueDays) {
			t.Fatalf("ParseDueDays(%q) = %d", s, n)
		}
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if d.Year() < minYear || d.Year() > maxYear {
			t.Fatalf("ParseDate(%q) = %s, out of range", s, formatDate(d))
		}
		back, err := ParseDate(formatDate(d))
		if err != nil || !back.Equal(d) {
			t.Fatalf("ParseDate(%q) = %s; round trip gave %s, %v", s, formatDate(d), formatDate(back), err)
		}
	})
}
