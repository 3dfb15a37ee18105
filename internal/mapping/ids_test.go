package mapping

import (
	"github.com/frontpayment/fpexport/internal/msg"
	"strings"
	"testing"
)

func TestParsePersonalNumber(t *testing.T) {
	t.Parallel()
	valid := []struct {
		in, want  string
		synthetic bool
		birth     string
	}{
		{"28038712383", "28038712383", false, "1987-03-28"},
		{"280387 12383", "28038712383", false, "1987-03-28"},
		{"01010012356", "01010012356", false, "1900-01-01"}, // individual 123: the 1900s
		{"45837523412", "45837523412", true, "1975-03-05"},  // synthetic D-number (day + 40, month + 80)
		{"12838512311", "12838512311", true, "1985-03-12"},  // the samples' Skatteetaten test numbers
		{"05877223436", "05877223436", true, "1972-07-05"},
	}
	for _, tt := range valid {
		got, err := ParsePersonalNumber(tt.in, true)
		if err != nil || got != tt.want {
			t.Errorf("ParsePersonalNumber(%q, true): got %q, %v, want %q", tt.in, got, err, tt.want)
		}
		info, err := CheckPersonalNumber(tt.want)
		if err != nil || info.Synthetic != tt.synthetic || formatDate(info.Birth) != tt.birth {
			t.Errorf("CheckPersonalNumber(%q): got %+v, %v, want synthetic %v, born %s", tt.want, info, err, tt.synthetic, tt.birth)
		}
		_, err = ParsePersonalNumber(tt.in, false)
		if tt.synthetic {
			if err == nil || msg.Of(err).ID != "pnr.synthetic" {
				t.Errorf("ParsePersonalNumber(%q, false): got %v, want the synthetic-number reason", tt.in, err)
			}
		} else if err != nil {
			t.Errorf("ParsePersonalNumber(%q, false): got %v, want it accepted", tt.in, err)
		}
	}

	// D- and H-numbers are real people's numbers: accepted without the flag.
	for _, tt := range []struct{ ddmmyy, kind string }{{"410185", "D"}, {"014185", "H"}, {"704985", "D+H"}} {
		n := withControlDigits(t, tt.ddmmyy, 123)
		info, err := CheckPersonalNumber(n)
		if err != nil || info.Synthetic || info.DNumber != strings.Contains(tt.kind, "D") || info.HNumber != strings.Contains(tt.kind, "H") {
			t.Errorf("%s-number %s: got %+v, %v", tt.kind, n, info, err)
		}
		if _, err := ParsePersonalNumber(n, false); err != nil {
			t.Errorf("%s-number %s refused: %v", tt.kind, n, err)
		}
	}

	invalid := []struct{ in, want string }{
		{"28038712384", "the second control digit (the 11th digit) does not fit"},
		{"28038712313", "the first control digit (the 10th digit) does not fit"},
		{"28038721383", "control digits do not match"}, // two digits swapped
		{"2803871238", "10 digits, not 11, and not a valid personal number with a leading 0 either"},
		{"280387123834", "12 digits"},
		{"2803871238x", "not a personal number"},
		{"", "0 digits"},
		{withControlDigits(t, "310285", 123), "the first six digits, 310285, are not a date of birth"},
		{withControlDigits(t, "010085", 123), "are not a date of birth"}, // month 0
		{withControlDigits(t, "016085", 123), "are not a date of birth"}, // month 60: neither H (41–52) nor test (81–92)
		{withControlDigits(t, "290200", 123), "are not a date of birth"}, // 1900 was no leap year (individual 123)
		{withControlDigits(t, "019385", 123), "are not a date of birth"}, // month 93
		{withControlDigits(t, "810185", 123), "are not a date of birth"}, // day 81
	}
	for _, tt := range invalid {
		if got, err := ParsePersonalNumber(tt.in, true); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParsePersonalNumber(%q): got %q, %v, want an error containing %q", tt.in, got, err, tt.want)
		}
	}
	// 29.02.2000 (individual 500–999 with YY ≤ 39: the 2000s) is a date.
	if _, err := CheckPersonalNumber(withControlDigits(t, "290200", 567)); err != nil {
		t.Errorf("29.02.2000: %v", err)
	}
}

// Numbers issued from 2032 may carry any of up to four first control
// digits; the vectors are navikt/fnrvalidator's (its tests/fnr.spec.ts).
func TestPersonalNumbers2032(t *testing.T) {
	t.Parallel()
	for _, n := range []string{
		"02013299997",                                                                            // born 02.01.2032, new rule
		"30108299920",                                                                            // born 30.10.1982, remainder 0 (the classic rule)
		"30108299939",                                                                            // the same birth date and individual number, remainder 1
		"70108299914",                                                                            // a D-number under the new rule
		"13097248022", "29029648784", "29020075838", "15021951940", "53097248016", "13527248013", // classic
	} {
		if _, err := CheckPersonalNumber(n); err != nil {
			t.Errorf("CheckPersonalNumber(%s): %v, want it accepted", n, err)
		}
	}
	for _, n := range []string{
		"02013299987", // K1 outside the four values
		"02013299996", // K2 wrong
		"13097248032", "13097248023", "29020112345",
	} {
		if _, err := CheckPersonalNumber(n); err == nil {
			t.Errorf("CheckPersonalNumber(%s): accepted, want refused", n)
		}
	}
}

func TestParseOrganizationID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"923609016": "923609016", "923 609 016": "923609016", "NO 923 609 016 MVA": "923609016",
		"310523011": "310523011", "311028057": "311028057", "no923609016mva": "923609016",
	} {
		if got, err := ParseOrganizationID(in); err != nil || got != want {
			t.Errorf("ParseOrganizationID(%q): got %q, %v, want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"311028075":   "control digit does not match: the last digit does not fit the eight digits before it; check for a typo",
		"923609017":   "control digit does not match",
		"92360901":    "8 digits; an organisation number has 9 digits",
		"9236090167":  "10 digits",
		"NO923609016": "not an organisation number",
		"ABC123456":   "not an organisation number",
	} {
		if got, err := ParseOrganizationID(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseOrganizationID(%q): got %q, %v, want an error containing %q", in, got, err, want)
		}
	}
	// Eight digits whose control digit would be 10 are never issued.
	for i := 31000000; ; i++ {
		s := itoa(i)
		if mod11(s, orgWeights[:]) >= 0 {
			continue
		}
		if err := CheckOrganizationID(s + "0"); err == nil || !strings.Contains(err.Error(), "no organisation number begins with") {
			t.Errorf("CheckOrganizationID(%s0): got %v", s, err)
		}
		break
	}
}

// withControlDigits completes a date (ddmmyy) and an individual number
// with the control digits they would have, for building test numbers with
// odd dates; when no control digit fits, it tries the next individual
// numbers (same century rule).
func withControlDigits(t *testing.T, ddmmyy string, ind int) string {
	t.Helper()
	for i := ind; i < ind+20; i++ {
		nine := ddmmyy + threeDigits(i)
		k1 := mod11(nine, personalWeights1[:])
		if k1 < 0 {
			continue
		}
		ten := nine + itoa(k1)
		if k2 := mod11(ten, personalWeights2[:]); k2 >= 0 {
			return ten + itoa(k2)
		}
	}
	t.Fatalf("%s %03d: no control digits", ddmmyy, ind)
	return ""
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func threeDigits(n int) string {
	return string([]byte{byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)})
}

// FuzzIdentityNumbers: the checks never panic, an accepted number is its
// digits, and mod 11 catches every single-digit typo in an accepted number.
func FuzzIdentityNumbers(f *testing.F) {
	for _, s := range []string{"28038712383", "45837523412", "12838512311", "923609016", "311028057", "NO 923 609 016 MVA", "0", "99999999999"} {
		f.Add(s, 3, byte('7'))
	}
	f.Fuzz(func(t *testing.T, s string, pos int, digit byte) {
		if v, err := ParsePersonalNumber(s, true); err == nil {
			if len(v) != 11 || !allDigits(v) {
				t.Fatalf("ParsePersonalNumber(%q) = %q", s, v)
			}
			if typo := substitute(v, pos, digit); typo != v {
				if _, err := CheckPersonalNumber(typo); err == nil {
					t.Fatalf("%s accepted, and so is the typo %s", v, typo)
				}
			}
			if _, err := ParsePersonalNumber(v, false); err != nil && err != errSyntheticPersonalNumber {
				t.Fatalf("ParsePersonalNumber(%q, false): %v", v, err)
			}
		}
		if v, err := ParseOrganizationID(s); err == nil {
			if len(v) != 9 || !allDigits(v) {
				t.Fatalf("ParseOrganizationID(%q) = %q", s, v)
			}
			if typo := substitute(v, pos, digit); typo != v {
				if err := CheckOrganizationID(typo); err == nil {
					t.Fatalf("%s accepted, and so is the typo %s", v, typo)
				}
			}
		}
	})
}

// substitute puts a digit (from b) at position pos of s.
func substitute(s string, pos int, b byte) string {
	if len(s) == 0 {
		return s
	}
	i := int(uint(pos) % uint(len(s)))
	out := []byte(s)
	out[i] = '0' + b%10
	return string(out)
}
