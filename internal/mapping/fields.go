package mapping

import (
	"github.com/frontpayment/fpexport/internal/msg"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/money"
)

// Text limits. FP documents no lengths; 255 is Laravel's usual string column
// and keeps a pasted paragraph out of a name. order_ref is ours: it goes into
// callback URLs and FP's reference fields, so it is kept short.
const (
	maxRefLen  = 64
	maxTextLen = 255
)

// ParseBool reads a yes/no cell: true/false, yes/no, ja/nei, 1/0, x, and
// sann/usann (what Norwegian Excel writes for TRUE/FALSE). set is false for
// an empty cell, which means "the default".
func ParseBool(raw string) (val, set bool, err error) {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "":
		return false, false, nil
	case "true", "yes", "ja", "1", "x", "sann", "y", "j":
		return true, true, nil
	case "false", "no", "nei", "0", "usann", "n":
		return false, true, nil
	}
	return false, false, msg.Err("bool.invalid")
}

// checkText refuses control characters (a tab or line break pasted into a
// cell) and overlong values.
func checkText(s string, max int) error {
	if !utf8.ValidString(s) {
		return msg.Err("text.encoding")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return msg.Err("text.control")
		}
	}
	if n := utf8.RuneCountInString(s); n > max {
		return msg.Err("text.too_long", n, max)
	}
	return nil
}

// ParseCustomerType reads private or corporate; the Norwegian privat and
// bedrift are accepted too.
func ParseCustomerType(raw string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "private", "privat":
		return "private", nil
	case "corporate", "bedrift":
		return "corporate", nil
	}
	return "", msg.Err("customer_type.invalid")
}

// ParseEmail accepts a plain address (kari@nordmann.no): no display name,
// no angle brackets, and a domain with a dot.
func ParseEmail(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	bad := msg.Err("email.invalid")
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", bad
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") ||
		strings.ContainsAny(domain, "[]") {
		return "", bad
	}
	if err := checkText(s, maxTextLen); err != nil {
		return "", err
	}
	return s, nil
}

// removeSpaces drops every kind of space, including no-break spaces.
func removeSpaces(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// ParseCountryCode reads a telephone country code: "+47", "47", "0047" are
// all "+47".
func ParseCountryCode(raw string) (string, error) {
	s := removeSpaces(raw)
	switch {
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	case strings.HasPrefix(s, "00"):
		s = s[2:]
	}
	if len(s) < 1 || len(s) > 3 || !allDigits(s) || s[0] == '0' {
		if len(s) == 2 && fpclient.IsCountry(strings.ToUpper(s)) {
			// "NO" in a column headed "Landkode": the country, not the
			// telephone code.
			return "", msg.Err("country_code.is_country", strings.ToUpper(s))
		}
		return "", msg.Err("country_code.invalid")
	}
	return "+" + s, nil
}

// ParsePhone reads the country code and the number (msisdn) together, since
// people write the whole number "+47 465 67 468" in one cell. It returns the
// country code ("+47"), the number's digits, and an error for each column.
// A number with a +/00 prefix is accepted when it repeats country_code, or
// when country_code is empty and the prefix is +47; other countries' numbers
// need their code in country_code, because country calling codes have one to
// three digits and cannot be split off reliably.
func ParsePhone(ccRaw, numRaw string) (cc, num string, ccErr, numErr error) {
	if strings.TrimSpace(ccRaw) != "" {
		cc, ccErr = ParseCountryCode(ccRaw)
	}
	num = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' {
			return -1
		}
		return r
	}, numRaw)
	if num == "" {
		numErr = msg.Err("required")
		if strings.TrimSpace(ccRaw) == "" {
			ccErr = msg.Err("required")
		}
		return "", "", ccErr, numErr
	}
	intl := ""
	switch {
	case strings.HasPrefix(num, "+"):
		intl = num[1:]
	case strings.HasPrefix(num, "00"):
		intl = num[2:]
	}
	if intl != "" {
		switch {
		case cc != "" && strings.HasPrefix(intl, cc[1:]):
			num = intl[len(cc)-1:]
		case cc != "":
			return cc, "", ccErr, msg.Err("phone.other_code", cc, msg.Col("country_code"))
		case ccErr != nil:
			return "", "", ccErr, nil
		case strings.HasPrefix(intl, "47"):
			cc, num = "+47", intl[2:]
		default:
			return "", "", msg.Err("country_code.required_abroad", msg.Col("msisdn")), nil
		}
	} else if cc == "" && ccErr == nil {
		ccErr = msg.Err("country_code.required")
	}
	if !allDigits(num) || strings.HasPrefix(num, "00") {
		return cc, "", ccErr, msg.Err("phone.not_digits")
	}
	switch {
	case cc == "+47" && len(num) != 8:
		return cc, "", ccErr, msg.Err("phone.no_length", len(num))
	case len(num) < 4 || len(num) > 14:
		return cc, "", ccErr, msg.Err("phone.length", len(num))
	}
	if ccErr != nil {
		return "", num, ccErr, nil
	}
	return cc, num, nil, nil
}

// MaxDueDays is the longest payment term accepted in due_days.
const MaxDueDays = 365

// ParseDueDays reads a payment term in days: "14", "14 dager", "14 days",
// "14 d". 0 means due on the order date.
func ParseDueDays(raw string) (int, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	for _, suffix := range []string{"dager", "dag", "days", "day", "d"} {
		if strings.HasSuffix(s, suffix) {
			s = strings.TrimSpace(strings.TrimSuffix(s, suffix))
			break
		}
	}
	d, err := money.ParseDecimal(s)
	if err != nil || d.Neg {
		return 0, msg.Err("due_days.invalid")
	}
	v, err := d.Scaled(0)
	if err != nil || v > MaxDueDays {
		return 0, msg.Err("due_days.range", MaxDueDays)
	}
	return int(v), nil
}

// ParseCountry reads an ISO 3166-1 alpha-2 country code, upper-cased.
func ParseCountry(raw string) (string, error) {
	s := strings.ToUpper(strings.TrimSpace(raw))
	if fpclient.IsCountry(s) {
		return s, nil
	}
	switch s {
	case "NORGE", "NORWAY", "NOREG", "NOR":
		return "", msg.Err("country.name")
	}
	return "", msg.Err("country.invalid")
}

// ParseZip reads a postal code; for Norway it must be 4 digits.
func ParseZip(raw, country string) (string, error) {
	s := strings.TrimSpace(raw)
	if country == "NO" {
		s = removeSpaces(s)
		if len(s) == 3 && allDigits(s) {
			return "", msg.Err("zip.three_digits")
		}
		if len(s) != 4 || !allDigits(s) {
			return "", msg.Err("zip.invalid_no")
		}
		return s, nil
	}
	if err := checkText(s, 12); err != nil {
		return "", err
	}
	return s, nil
}

// Languages FP accepts for preferredLanguage and checkoutLanguage.
var languages = map[string]string{
	"en": "en", "no": "no", "sv": "sv", "da": "da", "de": "de",
	// Norwegian written forms and names people use for them.
	"nb": "no", "nn": "no", "nob": "no", "nno": "no", "norsk": "no",
	"bokmål": "no", "nynorsk": "no", "norwegian": "no",
}

// DefaultLanguage is FP's own default ("If nothing is given it will set
// default to no"); we send it explicitly because payment-link requires the
// field.
const DefaultLanguage = "no"

// ParseLanguage reads a language: en, no, sv, da, de (nb, nn, norsk → no).
func ParseLanguage(raw string) (string, error) {
	if l, ok := languages[strings.ToLower(strings.TrimSpace(raw))]; ok {
		return l, nil
	}
	return "", msg.Err("language.invalid")
}

// ParsePaymentMethod reads a checkout payment method: vipps, visa,
// mastercard, applepay, googlepay ("Apple Pay", "Google Pay" accepted).
func ParsePaymentMethod(raw string) (string, error) {
	s := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || r == '_' {
			return -1
		}
		return unicode.ToLower(r)
	}, raw)
	switch s {
	case "vipps", "visa", "mastercard", "applepay", "googlepay":
		return s, nil
	}
	return "", msg.Err("payment_method.invalid")
}

// ParseKindCell reads a kind as written in a cell: "invoice",
// "payment-link", "Payment link", "hosted_checkout", "checkout", and the
// Norwegian "faktura" (invoice) and "betalingslenke"/"betalingslink"
// (payment-link).
func ParseKindCell(raw string) (fpclient.Kind, error) {
	s := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '_' {
			return '-'
		}
		return r
	}, strings.TrimSpace(raw))
	if k, ok := fpclient.ParseKind(s); ok {
		return k, nil
	}
	switch strings.ToLower(s) {
	case "faktura":
		return fpclient.KindInvoice, nil
	case "betalingslenke", "betalingslink":
		return fpclient.KindPaymentLink, nil
	}
	return "", msg.Err("kind.invalid")
}
