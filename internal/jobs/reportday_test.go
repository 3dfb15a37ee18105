package jobs

import (
	"testing"
	"time"
)

// The day a slot's report covers is the day before the slot's Oslo date,
// also across midnight UTC and the change to summer time.
func TestReportDay(t *testing.T) {
	t.Parallel()
	oslo, _ := time.LoadLocation("Europe/Oslo")
	for slot, want := range map[string]string{
		"2026-11-23T05:00:00Z": "2026-11-22", // 06:00 Oslo, winter
		"2026-06-23T04:00:00Z": "2026-06-22", // 06:00 Oslo, summer
		"2026-11-22T23:30:00Z": "2026-11-22", // 00:30 on the 23rd in Oslo, still the 22nd in UTC
		"2026-03-29T04:00:00Z": "2026-03-28", // the morning summer time starts
	} {
		s, _ := time.Parse(time.RFC3339, slot)
		if got := ReportDay(s, oslo); got != want {
			t.Errorf("%s: %s, want %s", slot, got, want)
		}
	}
}
