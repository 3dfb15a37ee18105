package pii

import "testing"

func TestMaskPersonalNumber(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"01019012345":  "010190*****",
		"41019012345":  "410190*****", // D-number: the date part is kept as written
		"0101901234":   "***********",
		"010190 12345": "***********",
	} {
		if got := MaskPersonalNumber(in); got != want {
			t.Errorf("MaskPersonalNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskShortPersonalNumber(t *testing.T) {
	for in, want := range map[string]string{
		"":            "",
		"2908823470":  "29088*****",
		"02908823470": "029088*****",
		"290882347":   "***********",
	} {
		if got := MaskShortPersonalNumber(in); got != want {
			t.Errorf("MaskShortPersonalNumber(%q) = %q, want %q", in, got, want)
		}
	}
}
