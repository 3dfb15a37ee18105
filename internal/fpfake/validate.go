package fpfake

import (
	"encoding/json"
	"math/big"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/frontpayment/fpexport/internal/fpclient"
)

// FieldError is one failed rule. Field is the attribute as Laravel keys it in
// an error bag ("customerDetails.email", "products.0.tax"); Message is the
// sentence FP answers ("The customer details.email must be a valid email
// address.").
type FieldError struct {
	Field   string
	Message string
}

// env is what a check may need besides the value: the clock and the zone in
// which "today" is decided.
type env struct {
	now time.Time
	loc *time.Location
}

// check inspects a value that is present and not empty, and returns a
// Laravel message template (":attribute" stands for the field's display name),
// or "" when the value passes.
type check func(v any, e env) string

// condition makes a field required only when it holds (required_if,
// required_with). message is the whole template Laravel would answer.
type condition struct {
	holds   func(doc any) bool
	message string
}

// rule is one line of a seed's validation table.
//
// Every field that is not required is treated as `nullable`: the seeds'
// examples send null for optional fields (personalNumber, organizationId,
// referencesNo, customerNotes), so FP evidently accepts null there. As in
// Laravel, a missing value, null, a string that is empty after trimming, or an
// empty array/object is "empty": it fails `required` and skips every other rule.
type rule struct {
	attr       string
	required   bool
	requiredIf *condition
	checks     []check
}

func required(attr string, checks ...check) rule {
	return rule{attr: attr, required: true, checks: checks}
}

func optional(attr string, checks ...check) rule {
	return rule{attr: attr, checks: checks}
}

func requiredIf(attr string, c *condition, checks ...check) rule {
	return rule{attr: attr, requiredIf: c, checks: checks}
}

// whenEquals is Laravel's required_if:other,value.
func whenEquals(other, value string) *condition {
	return &condition{
		holds: func(doc any) bool {
			v, _ := lookup(doc, other)
			s, ok := phpString(v)
			return ok && s == value
		},
		message: "The :attribute field is required when " + displayName(other) + " is " + value + ".",
	}
}

// whenTrue is required_if:other,true. Laravel only matches a real boolean
// true there (a "1" would slip through); we treat every accepted boolean
// spelling of true as true, which is the stricter reading.
func whenTrue(other string) *condition {
	return &condition{
		holds: func(doc any) bool {
			v, _ := lookup(doc, other)
			b, ok := asBool(v)
			return ok && b
		},
		message: "The :attribute field is required when " + displayName(other) + " is true.",
	}
}

// whenPresent is Laravel's required_with:other.
func whenPresent(other string) *condition {
	return &condition{
		holds: func(doc any) bool {
			v, _ := lookup(doc, other)
			return !isEmpty(v)
		},
		message: "The :attribute field is required when " + displayName(other) + " is present.",
	}
}

// validateDoc applies rules in table order and returns at most one message
// per attribute (the first rule that fails), like Laravel does after an
// implicit rule fails; it keeps the answers short and predictable.
func validateDoc(rules []rule, doc any, e env) []FieldError {
	var errs []FieldError
	for _, r := range rules {
		wildcard := strings.Contains(r.attr, "*")
		for _, attr := range expand(r.attr, doc) {
			name := displayName(attr)
			if wildcard {
				// Laravel shows an expanded wildcard attribute as is
				// ("products.0.productId"), without snake-casing it.
				name = attr
			}
			fail := func(tmpl string) {
				errs = append(errs, FieldError{Field: attr, Message: strings.ReplaceAll(tmpl, ":attribute", name)})
			}
			v, _ := lookup(doc, attr)
			if isEmpty(v) {
				switch {
				case r.required:
					fail("The :attribute field is required.")
				case r.requiredIf != nil && r.requiredIf.holds(doc):
					fail(r.requiredIf.message)
				}
				continue
			}
			for _, c := range r.checks {
				if msg := c(v, e); msg != "" {
					fail(msg)
					break
				}
			}
		}
	}
	return errs
}

// expand turns "products.*.name" into "products.0.name", "products.1.name", …
// for the items the document holds. A collection that is not a list expands
// to nothing; the rule on the collection itself reports that.
func expand(attr string, doc any) []string {
	prefix, rest, ok := strings.Cut(attr, "*")
	if !ok {
		return []string{attr}
	}
	prefix = strings.TrimSuffix(prefix, ".")
	coll, _ := lookup(doc, prefix)
	keys, ok := listKeys(coll)
	if !ok {
		return nil
	}
	var out []string
	for _, k := range keys {
		out = append(out, expand(prefix+"."+k+rest, doc)...)
	}
	return out
}

// listKeys returns the keys of a JSON list, or of an object keyed "0", "1", …
// without gaps: that is how PHP serialises a list that went through
// array_filter or similar, and the payment-link seed's example sends products
// that way. Any other object is not a list.
func listKeys(v any) ([]string, bool) {
	switch v := v.(type) {
	case []any:
		keys := make([]string, len(v))
		for i := range v {
			keys[i] = strconv.Itoa(i)
		}
		return keys, true
	case map[string]any:
		idx := make([]int, 0, len(v))
		for k := range v {
			n, err := strconv.Atoi(k)
			if err != nil || n < 0 || strconv.Itoa(n) != k {
				return nil, false
			}
			idx = append(idx, n)
		}
		sort.Ints(idx)
		keys := make([]string, len(idx))
		for i, n := range idx {
			if n != i {
				return nil, false
			}
			keys[i] = strconv.Itoa(n)
		}
		return keys, true
	}
	return nil, false
}

// lookup follows a dotted path through decoded JSON.
func lookup(doc any, path string) (any, bool) {
	cur := doc
	for seg := range strings.SplitSeq(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[seg]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// isEmpty is Laravel's notion of a value that fails `required`.
func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(v) == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// displayName is Laravel's default attribute name: Str::snake, then
// underscores become spaces ("customerDetails.email" → "customer details.email").
func displayName(attr string) string {
	var b strings.Builder
	for i, r := range attr {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte(' ')
			}
			r = unicode.ToLower(r)
		}
		if r == '_' {
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// --- checks ---

func isString(v any, _ env) string {
	if _, ok := v.(string); !ok {
		return "The :attribute must be a string."
	}
	return ""
}

// isNumeric is Laravel's `numeric` (PHP is_numeric): a JSON number or a
// numeric string. PHP also tolerates surrounding whitespace; we do not.
func isNumeric(v any, _ env) string {
	if _, ok := number(v); !ok {
		return "The :attribute must be a number."
	}
	return ""
}

// isBoolean is Laravel's `boolean`: true, false, 1, 0, "1", "0" and nothing
// else (not "true", not 1.0).
func isBoolean(v any, _ env) string {
	if _, ok := asBool(v); !ok {
		return "The :attribute field must be true or false."
	}
	return ""
}

func isEmail(v any, _ env) string {
	s, ok := v.(string)
	if !ok || !validEmail(s) {
		return "The :attribute must be a valid email address."
	}
	return ""
}

func isURL(v any, _ env) string {
	s, ok := v.(string)
	if !ok || !validURL(s) {
		return "The :attribute must be a valid URL."
	}
	return ""
}

// isArray is Laravel's `array`: a JSON object or list.
func isArray(v any, _ env) string {
	switch v.(type) {
	case map[string]any, []any:
		return ""
	}
	return "The :attribute must be an array."
}

// isList accepts a JSON list, or an object keyed "0", "1", … (see listKeys).
func isList(v any, e env) string {
	if msg := isArray(v, e); msg != "" {
		return msg
	}
	if _, ok := listKeys(v); !ok {
		return "The :attribute must be a list."
	}
	return ""
}

// in is Laravel's `in:`, which compares the value's PHP string form: the
// number 12 and the string "12" pass in:0,12,15,25, the string "12.0" does not.
func in(allowed ...string) check {
	return func(v any, _ env) string {
		s, ok := phpString(v)
		if ok {
			for _, a := range allowed {
				if s == a {
					return ""
				}
			}
		}
		return "The selected :attribute is invalid."
	}
}

func matches(re *regexp.Regexp) check {
	return func(v any, _ env) string {
		s, ok := phpString(v)
		if !ok || !re.MatchString(s) {
			return "The :attribute format is invalid."
		}
		return ""
	}
}

var (
	elevenDigits = regexp.MustCompile(`^\d{11}$`)
	nineDigits   = regexp.MustCompile(`^\d{9}$`)
	someDigits   = regexp.MustCompile(`^\d+$`)
	unixSeconds  = regexp.MustCompile(`^\d{1,10}$`)
)

// isDigits accepts a string or a JSON number made of digits only: the seeds
// call organizationId "numeric", "alphanumeric" and "number" in one breath;
// digits satisfy all three.
func isDigits(v any, _ env) string {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case json.Number:
		s = v.String()
	default:
		return "The :attribute format is invalid."
	}
	if !someDigits.MatchString(s) {
		return "The :attribute format is invalid."
	}
	return ""
}

// isUnixTimestamp: the seeds type order dates as "string" holding a "Unix
// timestamp". We require whole seconds as a string of at most ten digits; a
// millisecond timestamp (13 digits) is a typical integrator mistake that
// would otherwise land in the year 57000.
func isUnixTimestamp(v any, _ env) string {
	s, ok := v.(string)
	if !ok || !unixSeconds.MatchString(s) {
		return "The :attribute does not match the format U."
	}
	return ""
}

// notBeforeToday is "must be current or future date": the timestamp's
// calendar date in FP's zone (Europe/Oslo) must be today or later, so any
// time earlier today passes.
func notBeforeToday(v any, e env) string {
	s, _ := v.(string)
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return "The :attribute does not match the format U."
	}
	y, m, d := time.Unix(sec, 0).In(e.loc).Date()
	ty, tm, td := e.now.In(e.loc).Date()
	if time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Before(time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC)) {
		return "The :attribute must be a date after or equal to today."
	}
	return ""
}

func isCountry(v any, _ env) string {
	s, ok := v.(string)
	if !ok || !fpclient.IsCountry(s) {
		return "The selected :attribute is invalid."
	}
	return ""
}

// --- value helpers ---

var numericText = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`)

// number parses a JSON number or numeric string exactly (no floats). An
// exponent beyond ±30 is refused so a hostile "1e999999999" costs nothing.
func number(v any) (*big.Rat, bool) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return nil, false
	}
	m := numericText.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	mant, exp := s, 0
	if m[3] != "" {
		e, err := strconv.Atoi(m[3][1:])
		if err != nil || e > 30 || e < -30 {
			return nil, false
		}
		mant, exp = s[:len(s)-len(m[3])], e
	}
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimLeft(mant, "+-")
	whole, frac, _ := strings.Cut(mant, ".")
	digits, ok := new(big.Int).SetString("0"+whole+frac, 10)
	if !ok {
		return nil, false
	}
	r := new(big.Rat).SetInt(digits)
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp-len(frac)))), nil))
	if exp-len(frac) >= 0 {
		r.Mul(r, scale)
	} else {
		r.Quo(r, scale)
	}
	if neg {
		r.Neg(r)
	}
	return r, true
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// asBool reads Laravel's accepted boolean spellings.
func asBool(v any) (value, ok bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case json.Number:
		switch v.String() {
		case "0":
			return false, true
		case "1":
			return true, true
		}
	case string:
		switch v {
		case "0":
			return false, true
		case "1":
			return true, true
		}
	}
	return false, false
}

// phpString is PHP's (string) cast of a scalar JSON value, as `in:` and
// `regex:` see it: json_decode makes 12.0 a float, which prints as "12".
func phpString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		if v {
			return "1", true
		}
		return "", true
	case json.Number:
		s := v.String()
		if !strings.ContainsAny(s, ".eE") {
			return s, true
		}
		f, err := v.Float64()
		if err != nil {
			return s, true
		}
		return strconv.FormatFloat(f, 'f', -1, 64), true
	}
	return "", false
}

// validEmail is stricter than Laravel's default RFC check in the direction an
// integrator must satisfy anyway: one "@", an ASCII dot-atom local part, and a
// domain of at least two DNS labels ending in an alphabetic top-level label
// ("kari@nordmann.no"; not "a@localhost", not "a@b@c.no").
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || len(s) > 254 || strings.Contains(domain, "@") {
		return false
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return false
	}
	for _, r := range local {
		if !(r < 128 && (isAlnum(r) || strings.ContainsRune("!#$%&'*+/=?^_`{|}~-.", r))) {
			return false
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if !validLabel(l) {
			return false
		}
	}
	tld := labels[len(labels)-1]
	if strings.HasPrefix(tld, "xn--") {
		return true
	}
	for _, r := range tld {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return len(tld) >= 2
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func validLabel(l string) bool {
	if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
		return false
	}
	for _, r := range l {
		if !(r < 128 && (isAlnum(r) || r == '-')) {
			return false
		}
	}
	return true
}

// validURL is the seeds' "must be a valid url", read as Laravel's `url` rule
// limited to http and https: an absolute URL with a host (a domain name, a
// single label such as localhost, or an IP address), an optional numeric
// port, and no character that would need escaping (no spaces, quotes, braces).
func validURL(s string) bool {
	for _, r := range s {
		if r <= ' ' || r == 0x7f || (r < 128 && strings.ContainsRune("\"<>\\^`{|}", r)) {
			return false
		}
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" {
		return false
	}
	if !strings.HasPrefix(strings.ToLower(s), u.Scheme+"://") {
		return false
	}
	host := u.Hostname()
	if host == "" {
		return false
	}
	if port := u.Port(); port != "" {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return false
		}
	}
	if net.ParseIP(host) != nil {
		return true
	}
	for l := range strings.SplitSeq(strings.TrimSuffix(host, "."), ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for _, r := range l {
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_') {
				return false
			}
		}
	}
	// Percent signs must start an escape.
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
