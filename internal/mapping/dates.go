package mapping

import (
	"github.com/frontpayment/fpexport/internal/msg"
	"strconv"
	"strings"
	"sync"
	"time"

	// Europe/Oslo must be there even on a host or container without
	// /usr/share/zoneinfo: every date rule of FP is a calendar day in Norway.
	_ "time/tzdata"
)

// Dates are held as midnight UTC of the calendar day, so that day
// arithmetic never meets a daylight-saving change.
const dateLayout = "2006-01-02"

// Years outside this range are typos (or an amount in the date column).
const (
	minYear = 2000
	maxYear = 2099
)

// oslo is the default location when the caller gives none.
var oslo = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		// time/tzdata is linked in, so this cannot happen.
		panic("mapping: cannot load Europe/Oslo: " + err.Error())
	}
	return loc
})

// ParseDate reads a calendar date: yyyy-mm-dd, dd.mm.yyyy, d.m.yyyy, or an
// Excel serial day number (the value an XLSX date cell holds) in Excel's
// usual 1900 date system. A time of day is accepted only when it is midnight
// ("2026-11-20 00:00:00", as ERP exports and Excel write dates).
func ParseDate(raw string) (time.Time, error) { return parseDate(raw, false) }

// ParseDate1904 is ParseDate for a workbook in Excel's 1904 date system (old
// Mac Excel; importers.Sheet.Date1904), whose serials count days from
// 1904-01-01: the same day is 1462 less than in the 1900 system.
func ParseDate1904(raw string) (time.Time, error) { return parseDate(raw, true) }

func parseDate(raw string, date1904 bool) (time.Time, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return time.Time{}, msg.Err("date.empty")
	}
	if d, ok, err := excelSerial(s, date1904); ok {
		return d, err
	}
	datePart, timePart, hasTime := strings.Cut(s, " ")
	if !hasTime {
		datePart, timePart, hasTime = strings.Cut(s, "T")
	}
	if hasTime {
		switch strings.TrimSpace(timePart) {
		case "00:00", "00:00:00", "00:00:00.000":
		default:
			return time.Time{}, msg.Err("date.time")
		}
	}
	var y, m, d string
	switch {
	case strings.Count(datePart, "-") == 2:
		parts := strings.Split(datePart, "-")
		y, m, d = parts[0], parts[1], parts[2]
	case strings.Count(datePart, ".") == 2:
		parts := strings.Split(datePart, ".")
		d, m, y = parts[0], parts[1], parts[2]
	default:
		return time.Time{}, msg.Err("date.invalid")
	}
	if len(y) == 2 && allDigits(y) {
		return time.Time{}, msg.Err("date.two_digit_year")
	}
	if len(y) != 4 || len(m) < 1 || len(m) > 2 || len(d) < 1 || len(d) > 2 ||
		!allDigits(y) || !allDigits(m) || !allDigits(d) {
		return time.Time{}, msg.Err("date.invalid")
	}
	yi, _ := strconv.Atoi(y)
	mi, _ := strconv.Atoi(m)
	di, _ := strconv.Atoi(d)
	t := time.Date(yi, time.Month(mi), di, 0, 0, 0, 0, time.UTC)
	if t.Year() != yi || int(t.Month()) != mi || t.Day() != di {
		return time.Time{}, msg.Err("date.not_calendar")
	}
	return checkYear(t)
}

func checkYear(t time.Time) (time.Time, error) {
	if t.Year() < minYear || t.Year() > maxYear {
		return time.Time{}, msg.Err("date.range", t.Year(), minYear, maxYear)
	}
	return t, nil
}

// excelSerial reads an Excel serial day number such as 46000 (1900 date
// system, or the 1904 system with date1904), with an optional fraction for
// the time of day, which is dropped. ok is false when s does not look like a
// serial at all.
func excelSerial(s string, date1904 bool) (t time.Time, ok bool, err error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if !allDigits(whole) || len(whole) == 0 || len(whole) > 6 || (hasFrac && !allDigits(frac)) {
		return time.Time{}, false, nil
	}
	n, _ := strconv.Atoi(whole)
	t, valid := excelSerialDate(n)
	if date1904 {
		t, valid = excelSerialDate1904(n)
	}
	if !valid || t.Year() < minYear || t.Year() > maxYear {
		// "20.11" without a year lands here too: say what a date looks like.
		return time.Time{}, true, msg.Err("date.invalid")
	}
	return t, true, nil
}

// excelSerialDate converts a serial day number of Excel's 1900 date system.
// Excel counts 1900-01-01 as day 1 and believes 1900 was a leap year (a bug
// kept from Lotus 1-2-3): day 60 is the non-existent 1900-02-29, and from
// day 61 (1900-03-01) on every serial is one more than the true day count.
// Hence day 0 is 1899-12-31 before the phantom day and 1899-12-30 after it.
func excelSerialDate(n int) (time.Time, bool) {
	switch {
	case n < 1, n == 60:
		return time.Time{}, false
	case n < 60:
		return time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n), true
	default:
		return time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n), true
	}
}

// excelSerialDate1904 converts a serial day number of Excel's 1904 date
// system: day 0 is 1904-01-01, and there is no phantom leap day.
func excelSerialDate1904(n int) (time.Time, bool) {
	if n < 0 {
		return time.Time{}, false
	}
	return time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n), true
}

// dayOf is the calendar day of t in loc, as a date.
func dayOf(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// daysBetween counts calendar days from a to b (both dates).
func daysBetween(a, b time.Time) int {
	return int(b.Sub(a).Hours() / 24)
}

// at is the instant of a date's wall-clock time h:m:s in loc.
func at(date time.Time, h, m, s int, loc *time.Location) time.Time {
	return time.Date(date.Year(), date.Month(), date.Day(), h, m, s, 0, loc)
}

func formatDate(t time.Time) string { return t.Format(dateLayout) }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
