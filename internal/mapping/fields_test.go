package mapping

import (
	"errors"
	"strings"
	"testing"

	"github.com/frontpayment/fpexport/internal/fpclient"
)

func TestParseBool(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		val, set bool
	}{
		{"true", true, true}, {"FALSE", false, true}, {"yes", true, true}, {"No", false, true},
		{"ja", true, true}, {"Nei", false, true}, {"1", true, true}, {"0", false, true},
		{"x", true, true}, {"X", true, true}, {"", false, false}, {"  ", false, false},
		{"SANN", true, true}, {"usann", false, true},
	}
	for _, tt := range tests {
		val, set, err := ParseBool(tt.in)
		if err != nil || val != tt.val || set != tt.set {
			t.Errorf("ParseBool(%q): got %v, %v, %v, want %v, %v", tt.in, val, set, err, tt.val, tt.set)
		}
	}
	for _, in := range []string{"maybe", "2", "xx", "jo"} {
		if _, _, err := ParseBool(in); err == nil {
			t.Errorf("ParseBool(%q): got no error, want one", in)
		}
	}
}

func TestParsePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cc, num         string
		wantCC, wantNum string
	}{
		{"+47", "46567468", "+47", "46567468"},
		{"47", "465 67 468", "+47", "46567468"},
		{"0047", "465-67-468", "+47", "46567468"},
		{"", "+47 465 67 468", "+47", "46567468"},
		{"", "0047 46567468", "+47", "46567468"},
		{"+47", "+47 465 67 468", "+47", "46567468"},
		{"+46", "701234567", "+46", "701234567"},
		{"+46", "+46 70 123 45 67", "+46", "701234567"},
		{"+1", "2025550123", "+1", "2025550123"},
		{"+ 47", "4656\u00a07468", "+47", "46567468"},
	}
	for _, tt := range tests {
		cc, num, ccErr, numErr := ParsePhone(tt.cc, tt.num)
		if ccErr != nil || numErr != nil || cc != tt.wantCC || num != tt.wantNum {
			t.Errorf("ParsePhone(%q, %q): got %q, %q, %v, %v, want %q, %q", tt.cc, tt.num, cc, num, ccErr, numErr, tt.wantCC, tt.wantNum)
		}
	}
	errs := []struct {
		cc, num       string
		ccErr, numErr string // substrings; "" = no error
	}{
		{"", "46567468", "required", ""},
		{"+47", "4656746", "", "7 digits; a Norwegian number has 8"},
		{"+47", "4746567468", "", "10 digits"},
		{"+47", "", "", "required"},
		{"", "", "required", "required"},
		{"+47", "4656746a", "", "digits only"},
		{"+0", "46567468", "not a telephone country code", ""},
		{"+4747", "46567468", "not a telephone country code", ""},
		{"", "+46 70 123 45 67", "outside Norway", ""},
		{"+47", "+46 70 123 45 67", "", "not +47"},
		{"+46", "123", "", "3 digits; expected 4 to 14"},
		{"46", "+460000", "", "digits only"},
	}
	for _, tt := range errs {
		_, _, ccErr, numErr := ParsePhone(tt.cc, tt.num)
		check := func(col string, err error, want string) {
			switch {
			case want == "" && err != nil:
				t.Errorf("ParsePhone(%q, %q): %s: got error %q, want none", tt.cc, tt.num, col, err)
			case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
				t.Errorf("ParsePhone(%q, %q): %s: got error %v, want it to contain %q", tt.cc, tt.num, col, err, want)
			}
		}
		check("country_code", ccErr, tt.ccErr)
		check("msisdn", numErr, tt.numErr)
	}
}

func TestParseCountryCodeHints(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"47": "+47", "+47": "+47", "0047": "+47", " + 47 ": "+47", "46": "+46"} {
		if got, err := ParseCountryCode(in); err != nil || got != want {
			t.Errorf("ParseCountryCode(%q): got %q, %v, want %q", in, got, err, want)
		}
	}
	// "NO" in a column headed "Landkode" is the country, not the phone code.
	if _, err := ParseCountryCode("no"); err == nil || err.Error() != "NO is a country; this column is the telephone country code (write e.g. +47 for Norway)" {
		t.Errorf("ParseCountryCode(no): got %v", err)
	}
	for in, want := range map[string]string{"Faktura": "invoice", "betalingslenke": "payment-link", "Betalingslink": "payment-link", "hosted checkout": "hosted-checkout"} {
		if got, err := ParseKindCell(in); err != nil || string(got) != want {
			t.Errorf("ParseKindCell(%q): got %q, %v, want %s", in, got, err, want)
		}
	}
	for in, want := range map[string]int{"14": 14, "14 dager": 14, "30 days": 30, "0": 0, "7d": 7, "365": 365, "14,0": 14} {
		if got, err := ParseDueDays(in); err != nil || got != want {
			t.Errorf("ParseDueDays(%q): got %d, %v, want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "366", "14,5", "to uker", "dager"} {
		if got, err := ParseDueDays(in); err == nil {
			t.Errorf("ParseDueDays(%q): got %d, want an error", in, got)
		}
	}
}

func TestParseEmail(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"kari@nordmann.no", " kari.nordmann+faktura@firma.example.no ", "Kari@Nordmann.NO"} {
		if _, err := ParseEmail(in); err != nil {
			t.Errorf("ParseEmail(%q): got error %q, want none", in, err)
		}
	}
	for _, in := range []string{"kari@", "kari", "kari@nordmann", "Kari <kari@nordmann.no>", "<kari@nordmann.no>",
		"kari@nordmann..no", "kari@.no", "kari@no.", "kari @nordmann.no", "a@b@c.no", "kari@[127.0.0.1]"} {
		if got, err := ParseEmail(in); err == nil {
			t.Errorf("ParseEmail(%q): got %q, want an error", in, got)
		}
	}
}

func TestParseIdentifiers(t *testing.T) {
	t.Parallel()
	if got, err := ParsePersonalNumber("280387 12383", false); err != nil || got != "28038712383" {
		t.Errorf("ParsePersonalNumber: got %q, %v, want 28038712383", got, err)
	}
	for in, want := range map[string]string{
		"2803871238":   "leading 0",
		"280387123834": "12 digits",
		"2803871238x":  "not a personal number",
	} {
		if _, err := ParsePersonalNumber(in, true); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePersonalNumber(%q): got %v, want an error containing %q", in, err, want)
		}
	}
	for in, want := range map[string]string{
		"923609016": "923609016", "923 609 016": "923609016", "NO 923 609 016 MVA": "923609016",
		"no923609016mva": "923609016",
	} {
		if got, err := ParseOrganizationID(in); err != nil || got != want {
			t.Errorf("ParseOrganizationID(%q): got %q, %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"92360901", "9236090167", "NO923609016", "ABC123456"} {
		if got, err := ParseOrganizationID(in); err == nil {
			t.Errorf("ParseOrganizationID(%q): got %q, want an error", in, got)
		}
	}
}

func TestCountries(t *testing.T) {
	t.Parallel()
	if n := fpclient.CountryCount(); n != 249 {
		t.Errorf("fpclient.CountryCount() = %d, want 249", n)
	}
	for in, want := range map[string]string{"no": "NO", " se ": "SE", "Dk": "DK", "AX": "AX", "SS": "SS"} {
		if got, err := ParseCountry(in); err != nil || got != want {
			t.Errorf("ParseCountry(%q): got %q, %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"Norge", "NOR", "UK", "EU", "XK", "N", ""} {
		if got, err := ParseCountry(in); err == nil {
			t.Errorf("ParseCountry(%q): got %q, want an error", in, got)
		}
	}
}

func TestParseZip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, country, want, reason string
	}{
		{"4313", "NO", "4313", ""},
		{" 0150 ", "NO", "0150", ""},
		{"150", "NO", "", "leading 0"},
		{"43130", "NO", "", "4 digits"},
		{"SE-111 22", "SE", "SE-111 22", ""},
		{"SW1A 1AA", "GB", "SW1A 1AA", ""},
	}
	for _, tt := range tests {
		got, err := ParseZip(tt.in, tt.country)
		switch {
		case tt.reason == "" && (err != nil || got != tt.want):
			t.Errorf("ParseZip(%q, %s): got %q, %v, want %q", tt.in, tt.country, got, err, tt.want)
		case tt.reason != "" && (err == nil || !strings.Contains(err.Error(), tt.reason)):
			t.Errorf("ParseZip(%q, %s): got %q, %v, want an error containing %q", tt.in, tt.country, got, err, tt.reason)
		}
	}
}

func TestParseSmallEnums(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"EN": "en", "no": "no", "nb": "no", "NN": "no", "Norsk": "no", "sv": "sv", "da": "da", "de": "de"} {
		if got, err := ParseLanguage(in); err != nil || got != want {
			t.Errorf("ParseLanguage(%q): got %q, %v, want %q", in, got, err, want)
		}
	}
	if got, err := ParseLanguage("fr"); err == nil {
		t.Errorf("ParseLanguage(fr): got %q, want an error", got)
	}
	for in, want := range map[string]string{"Vipps": "vipps", "VISA": "visa", "Mastercard": "mastercard",
		"Apple Pay": "applepay", "Google Pay": "googlepay", "applepay": "applepay", "google-pay": "googlepay"} {
		if got, err := ParsePaymentMethod(in); err != nil || got != want {
			t.Errorf("ParsePaymentMethod(%q): got %q, %v, want %q", in, got, err, want)
		}
	}
	if got, err := ParsePaymentMethod("invoice"); err == nil {
		t.Errorf("ParsePaymentMethod(invoice): got %q, want an error", got)
	}
	for in, want := range map[string]string{"Private": "private", "CORPORATE": "corporate", "privat": "private", "Bedrift": "corporate"} {
		if got, err := ParseCustomerType(in); err != nil || got != want {
			t.Errorf("ParseCustomerType(%q): got %q, %v, want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]fpclient.Kind{"invoice": fpclient.KindInvoice, "Payment link": fpclient.KindPaymentLink,
		"hosted_checkout": fpclient.KindHostedCheckout, " CHECKOUT ": fpclient.KindCheckout} {
		if got, err := ParseKindCell(in); err != nil || got != want {
			t.Errorf("ParseKindCell(%q): got %q, %v, want %q", in, got, err, want)
		}
	}
}

func TestCheckText(t *testing.T) {
	t.Parallel()
	if err := checkText("Kari Nordmann", 64); err != nil {
		t.Errorf("checkText: got %v, want nil", err)
	}
	for _, in := range []string{"a\tb", "a\nb", "\x00", strings.Repeat("æ", 65), "\xff"} {
		if err := checkText(in, 64); err == nil {
			t.Errorf("checkText(%q): got nil, want an error", in)
		}
	}
}

func FuzzParsePhone(f *testing.F) {
	f.Add("+47", "465 67 468")
	f.Add("", "+47 465 67 468")
	f.Add("0046", "+46701234567")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, cc, num string) {
		gotCC, gotNum, ccErr, numErr := ParsePhone(cc, num)
		if ccErr != nil || numErr != nil {
			return
		}
		if !strings.HasPrefix(gotCC, "+") || !allDigits(gotCC[1:]) || !allDigits(gotNum) ||
			len(gotNum) < 4 || len(gotNum) > 14 || (gotCC == "+47" && len(gotNum) != 8) {
			t.Fatalf("ParsePhone(%q, %q) = %q, %q: not a valid phone", cc, num, gotCC, gotNum)
		}
		// Idempotent: the normalised parts parse to themselves.
		c2, n2, e1, e2 := ParsePhone(gotCC, gotNum)
		if c2 != gotCC || n2 != gotNum || e1 != nil || e2 != nil {
			t.Fatalf("ParsePhone(%q, %q) = %q, %q; again: %q, %q, %v, %v", cc, num, gotCC, gotNum, c2, n2, e1, e2)
		}
	})
}

func FuzzParseFields(f *testing.F) {
	for _, s := range []string{"kari@nordmann.no", "ja", "28038712383", "923 609 016", "NO", "nb", "Apple Pay", "Payment link", "4313"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := ParseEmail(s); err == nil {
			if v2, err := ParseEmail(v); err != nil || v2 != v {
				t.Fatalf("ParseEmail(%q) = %q; again %q, %v", s, v, v2, err)
			}
		}
		ParseBool(s)
		if v, err := ParsePersonalNumber(s, true); err == nil && (len(v) != 11 || !allDigits(v)) {
			t.Fatalf("ParsePersonalNumber(%q) = %q", s, v)
		}
		if v, err := ParseOrganizationID(s); err == nil && (len(v) != 9 || !allDigits(v)) {
			t.Fatalf("ParseOrganizationID(%q) = %q", s, v)
		}
		if v, err := ParseCountry(s); err == nil && !fpclient.IsCountry(v) {
			t.Fatalf("ParseCountry(%q) = %q", s, v)
		}
		if v, err := ParseZip(s, "NO"); err == nil && (len(v) != 4 || !allDigits(v)) {
			t.Fatalf("ParseZip(%q, NO) = %q", s, v)
		}
		ParseLanguage(s)
		ParsePaymentMethod(s)
		ParseCustomerType(s)
		ParseKindCell(s)
		if err := checkText(s, maxTextLen); err == nil && errors.Is(err, nil) {
			for _, r := range s {
				if r < 0x20 {
					t.Fatalf("checkText(%q) accepted a control character", s)
				}
			}
		}
	})
}
