// Package deploy holds the systemd units and examples an operator installs;
// its test checks that the nightly import's timer runs when it says.
package deploy

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// unitSettings reads KEY=value lines of one [Section] of a unit file.
func unitSettings(t *testing.T, file, section string) map[string][]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			in = line == "["+section+"]"
		case in:
			k, v, _ := strings.Cut(line, "=")
			out[k] = append(out[k], v)
		}
	}
	return out
}

// calendarSpec is the part of systemd's OnCalendar syntax the timer uses:
// [Weekday] *-MONTH-DAY HH:MM:SS ZONE, where MONTH and DAY are * or a..b.
type calendarSpec struct {
	weekday        *time.Weekday
	months, days   [2]int // inclusive ranges
	hour, min, sec int
	loc            *time.Location
}

var specRE = regexp.MustCompile(`^(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?\*-(\*|\d+(?:\.\.\d+)?)-(\*|\d+(?:\.\.\d+)?) (\d\d):(\d\d):(\d\d) (\S+)$`)

func parseSpec(s string) (calendarSpec, error) {
	m := specRE.FindStringSubmatch(s)
	if m == nil {
		return calendarSpec{}, fmt.Errorf("OnCalendar=%s: not of the form [Weekday] *-M-D HH:MM:SS Zone", s)
	}
	var c calendarSpec
	if m[1] != "" {
		for d := time.Sunday; d <= time.Saturday; d++ {
			if d.String()[:3] == m[1] {
				c.weekday = &d
			}
		}
	}
	rng := func(f string, lo, hi int) [2]int {
		if f == "*" {
			return [2]int{lo, hi}
		}
		a, b, ok := strings.Cut(f, "..")
		x, _ := strconv.Atoi(a)
		y := x
		if ok {
			y, _ = strconv.Atoi(b)
		}
		return [2]int{x, y}
	}
	c.months, c.days = rng(m[2], 1, 12), rng(m[3], 1, 31)
	c.hour, _ = strconv.Atoi(m[4])
	c.min, _ = strconv.Atoi(m[5])
	c.sec, _ = strconv.Atoi(m[6])
	loc, err := time.LoadLocation(m[7])
	if err != nil {
		return calendarSpec{}, fmt.Errorf("OnCalendar=%s: time zone: %v", s, err)
	}
	c.loc = loc
	return c, nil
}

// on is when c elapses on the given day (in c's zone), if it does: a
// local time that does not exist that day (clocks jumped over it) does not
// elapse, which is systemd's behaviour.
func (c calendarSpec) on(year int, month time.Month, day int) (time.Time, bool) {
	if int(month) < c.months[0] || int(month) > c.months[1] || day < c.days[0] || day > c.days[1] {
		return time.Time{}, false
	}
	t := time.Date(year, month, day, c.hour, c.min, c.sec, 0, c.loc)
	if c.weekday != nil && t.Weekday() != *c.weekday {
		return time.Time{}, false
	}
	if t.Hour() != c.hour || t.Minute() != c.min { // normalised past a gap
		return time.Time{}, false
	}
	return t, true
}

// oslo is the zone the accountants read the time in.
func oslo(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// checkNightly says whether runs (in any zone) are exactly one a night
// for each day of days, at 02:00 Oslo time, or at 03:00 on the night the
// clocks go forward and 02:00 does not exist.
func checkNightly(t *testing.T, runs []time.Time, from time.Time, days int) {
	t.Helper()
	loc := oslo(t)
	byDay := map[string][]time.Time{}
	for _, r := range runs {
		byDay[r.In(loc).Format("2006-01-02")] = append(byDay[r.In(loc).Format("2006-01-02")], r)
	}
	for i := range days {
		d := from.AddDate(0, 0, i)
		key := d.Format("2006-01-02")
		got := byDay[key]
		if len(got) != 1 {
			t.Errorf("%s: %d runs (%v), want exactly one", key, len(got), got)
			continue
		}
		// The wall clock, not the instant: the autumn night has two
		// 02:00s (CEST, then CET), and either is the one.
		want := "02:00:00"
		if time.Date(d.Year(), d.Month(), d.Day(), 2, 0, 0, 0, loc).Hour() != 2 {
			want = "03:00:00" // the spring night: 02:00 does not exist
		}
		if clock := got[0].In(loc).Format("15:04:05"); clock != want {
			t.Errorf("%s: the import runs at %s Oslo time, want %s", key, got[0].In(loc), want)
		}
	}
}

// The timer starts enqueue --inbox, persistently, at 02:00 in Oslo every
// night (03:00 the night 02:00 does not exist), whatever the machine's
// zone: checked over two years, both changes of the clocks included, with
// the OnCalendar lines evaluated here, and by systemd itself when
// systemd-analyze is installed.
func TestImportTimer(t *testing.T) {
	timer := unitSettings(t, "fpexport-import.timer", "Timer")
	if got := timer["Persistent"]; len(got) != 1 || got[0] != "true" {
		t.Errorf("Persistent=%v, want true (a night the machine was off is made up for at boot)", got)
	}
	if got := timer["Unit"]; len(got) != 1 || got[0] != "fpexport-import.service" {
		t.Errorf("Unit=%v, want fpexport-import.service", got)
	}
	specs := timer["OnCalendar"]
	if len(specs) == 0 || specs[0] != "*-*-* 02:00:00 Europe/Oslo" {
		t.Fatalf("OnCalendar=%v, want *-*-* 02:00:00 Europe/Oslo first", specs)
	}
	service := unitSettings(t, "fpexport-import.service", "Service")
	if exec := service["ExecStart"]; len(exec) != 1 || !strings.HasSuffix(exec[0], "/enqueue --inbox /srv/inbox") {
		t.Errorf("ExecStart=%v, want enqueue --inbox /srv/inbox", exec)
	}
	if typ := service["Type"]; len(typ) != 1 || typ[0] != "oneshot" {
		t.Errorf("Type=%v, want oneshot", typ)
	}

	loc := oslo(t)
	from := time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
	const days = 2 * 365
	var parsed []calendarSpec
	for _, s := range specs {
		c, err := parseSpec(s)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, c)
	}
	var runs []time.Time
	for i := range days {
		d := from.AddDate(0, 0, i)
		for _, c := range parsed {
			if r, ok := c.on(d.Year(), d.Month(), d.Day()); ok {
				runs = append(runs, r)
			}
		}
	}
	checkNightly(t, runs, from, days)

	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("systemd-analyze not installed: the OnCalendar lines were checked by this test's own reading only")
		return
	}
	t.Run("systemd", func(t *testing.T) {
		args := []string{"calendar", "--base-time=" + from.Add(-time.Second).UTC().Format("2006-01-02 15:04:05") + " UTC", "--iterations=" + strconv.Itoa(days)}
		out, err := exec.Command("systemd-analyze", append(args, specs...)...).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "base-time") { // an old systemd without --base-time
				t.Skipf("systemd-analyze calendar --base-time: %s", out)
			}
			t.Fatalf("systemd-analyze calendar: %v\n%s", err, out)
		}
		var systemdRuns []time.Time
		elapse := regexp.MustCompile(`(?m)^\s*(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC$`)
		for _, m := range elapse.FindAllStringSubmatch(string(out), -1) {
			r, err := time.Parse("2006-01-02 15:04:05", m[1])
			if err != nil {
				t.Fatal(err)
			}
			if r.Before(from.AddDate(0, 0, days)) {
				systemdRuns = append(systemdRuns, r)
			}
		}
		checkNightly(t, systemdRuns, from, days)
	})
}
