package money

import (
	"strings"
	"testing"
)

func TestParseAmount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Amount
	}{
		{"1234.50", 123450},
		{"1234,50", 123450},
		{"1 234,50", 123450},
		{"1.234,50", 123450},
		{"1,234.50", 123450},
		{"kr 1 234,50", 123450},
		{"Kr. 1 234,50", 123450},
		{"1 234,50 kr", 123450},
		{"NOK 1234", 123400},
		{"1234 NOK", 123400},
		{"1\u00a0234,50", 123450}, // no-break space
		{"1\u202f234,50", 123450}, // narrow no-break space
		{"1 234 567,89", 123456789},
		{"1.234.567,89", 123456789},
		{"1,234,567.89", 123456789},
		{"1.234.567", 123456700},
		{"1 234,-", 123400},
		{"1.234,-", 123400},
		{"kr 1.234.567,-", 123456700},
		{"99.-", 9900},
		{"4500", 450000},
		{"0", 0},
		{"0,5", 50},
		{",5", 50},
		{"  12.3  ", 1230},
		{"12.30", 1230},
		{"12.3000", 1230},
		{"-5", -500},
		{"\u22125,00", -500},
		{"+5", 500},
		// float noise from an XLSX cell's raw value
		{"0.30000000000000004", 30},
		{"4499.999999999999", 450000},
		{"100.09999999999999", 10010},
		{"0.1", 10},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in)
		if err != nil {
			t.Errorf("ParseAmount(%q): got error %q, want %d", tt.in, err, tt.want)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseAmount(%q): got %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestParseAmountErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		reason string // substring of the reason
	}{
		{"", "not an amount"},
		{"abc", "not an amount"},
		{"12.345", "more than 2 decimals"},
		{"1,234", "write it without the separator"},
		{"12.34999", "more than 2 decimals"},
		{"12 34", "thousands separators"},
		{"1.23.4", "thousands separators"},
		{"1,234,5", "thousands separators"},
		{"1 234.567,50", "thousands separators"},
		{"1.234,567.8", "not an amount"},
		{"1,,5", "not an amount"},
		{"5.", "not an amount"},
		{"1e5", "not an amount"},
		{"--5", "not an amount"},
		{"12,5 0", "not an amount"},
		{"kr", "not an amount"},
		{"99999999999999999999", "too large"},
		{"$5", "not an amount"},
		{"1,5,-", "thousands separators"},
		{"1.234,5,-", "thousands separators"},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in)
		if err == nil {
			t.Errorf("ParseAmount(%q): got %d, want an error containing %q", tt.in, got, tt.reason)
			continue
		}
		if !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("ParseAmount(%q): got error %q, want it to contain %q", tt.in, err, tt.reason)
		}
	}
}

func TestParseQuantity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Quantity
	}{
		{"1", 1000},
		{"1,5", 1500},
		{"1.5", 1500},
		{"0,001", 1},
		{"1.234", 1234}, // a quantity may have 3 decimals
		{"1 000", 1000000},
		{"2.0000000000000004", 2000},
		{"1000000", 1000000000},
	}
	for _, tt := range tests {
		got, err := ParseQuantity(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseQuantity(%q): got %d, %v, want %d", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "0", "-1", "0,0001", "1000001", "x", "1,2345"} {
		if got, err := ParseQuantity(in); err == nil {
			t.Errorf("ParseQuantity(%q): got %d, want an error", in, got)
		}
	}
}

// FuzzParseAmount: never panics; an accepted amount formats back (NOK with
// a dot, or grouped as the page shows it) to text that parses to the same
// value.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1234.50", "1 234,50", "1.234,50", "1,234.50", "kr 1 234,50",
		"NOK 1234", "0.30000000000000004", "4499.999999999999", "12.345", "-5", ",5", "1 234,-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmount(s)
		if err != nil {
			return
		}
		back, err := ParseAmount(a.NOK())
		if err != nil || back != a {
			t.Fatalf("ParseAmount(%q) = %d; ParseAmount(%q) = %d, %v", s, a, a.NOK(), back, err)
		}
		// So does what the page shows, in either language.
		for _, lang := range []string{"no", "en"} {
			shown := a.Display(lang)
			if back, err := ParseAmount(shown); err != nil || back != a {
				t.Fatalf("ParseAmount(%q) = %d; ParseAmount(%q) = %d, %v", s, a, shown, back, err)
			}
		}
	})
}

func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"1", "1,5", "0,001", "1 000", "2.0000000000000004", "0", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(s)
		if err != nil {
			return
		}
		if q <= 0 || q > MaxQuantity {
			t.Fatalf("ParseQuantity(%q) = %d, out of bounds", s, q)
		}
		back, err := ParseQuantity(q.String())
		if err != nil || back != q {
			t.Fatalf("ParseQuantity(%q) = %d; ParseQuantity(%q) = %d, %v", s, q, q.String(), back, err)
		}
	})
}
