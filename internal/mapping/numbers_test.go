package mapping

import (
	"strings"
	"testing"
)

func TestParseTax(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
	}{
		{"25", 25}, {"25%", 25}, {"25 %", 25}, {"25,0", 25}, {"25.00", 25},
		{"12", 12}, {"15", 15}, {"0", 0}, {" 0 % ", 0},
	}
	for _, tt := range tests {
		got, err := ParseTax(tt.in, nil)
		if err != nil || got != tt.want {
			t.Errorf("ParseTax(%q): got %d, %v, want %d", tt.in, got, err, tt.want)
		}
	}
	errs := []struct {
		in     string
		reason string
	}{
		{"0.25", "e.g. 25 for 25 %"},
		{"0,12", "e.g. 12 for 12 %"},
		{"0.125", "e.g. 12.5 for 12.5 %"},
		{"24", "allowed: 0, 12, 15, 25"},
		{"25.5", "whole percentage"},
		{"-25", "not a VAT rate"},
		{"", "not a VAT rate"},
		{"mva", "not a VAT rate"},
	}
	for _, tt := range errs {
		_, err := ParseTax(tt.in, nil)
		if err == nil || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("ParseTax(%q): got error %v, want it to contain %q", tt.in, err, tt.reason)
		}
	}
	if got, err := ParseTax("11,11", []int{0, 11}); err == nil {
		t.Errorf("ParseTax(11,11): got %d, want an error", got)
	}
	if got, err := ParseTax("11", []int{0, 11}); err != nil || got != 11 {
		t.Errorf("ParseTax(11) with configured rates: got %d, %v, want 11", got, err)
	}
}

func FuzzParseTax(f *testing.F) {
	for _, s := range []string{"25", "25%", "25,0", "0.25", "12", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseTax(s, nil)
		if err != nil {
			return
		}
		switch v {
		case 0, 12, 15, 25:
		default:
			t.Fatalf("ParseTax(%q) = %d, not an allowed rate", s, v)
		}
	})
}
