package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/frontpayment/fpexport/internal/msg"
	"maps"
	"slices"
	"strings"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/money"
)

// Profile is a header mapping profile: how one sender's files name the
// canonical columns, and values that the files leave out. It is a small JSON
// file (ParseProfile):
//
//	{
//	  "description": "Regnskapskontoret: fakturaer fra Tripletex",
//	  "columns":  {"Kunde nr.": "", "Bestillingsref.": "customer_reference"},
//	  "fixed":    {"kind": "invoice", "preferred_language": "no"},
//	  "defaults": {"invoice": {"invoice_fee": "true", "due_days": "14"},
//	               "*":       {"country": "NO"}}
//	}
//
// Its keys:
//
//   - columns: file header → canonical column. It comes before the built-in
//     synonyms; "" means "not used, and do not list it". Headers are matched
//     like synonyms (case, spaces, punctuation and æøå spelling do not
//     matter).
//   - fixed: canonical column → value for every row. A file column of that
//     name may repeat the value (in any spelling that parses the same) or be
//     empty; a different value is an error on that row.
//   - defaults: kind ("invoice", "payment-link", "hosted-checkout",
//     "checkout") or "*" (every kind) → canonical column → value for empty
//     cells. The kind's own default comes before "*"; a "*" default is used
//     only by kinds that have the column (invoice_fee only for invoices,
//     payment_method only for checkout, due dates not for checkout …).
//     Order-level columns are filled when every row of the order leaves them
//     empty; product columns line by line. "kind" may be defaulted under "*"
//     only; an import's own default kind (enqueue --kind) comes first.
//   - description: for humans.
//
// Values are checked when the profile is read, with the same parsers as
// cells: a bad value is a profile error, not an error on every row.
// order_ref, line_total and order_total cannot be fixed or defaulted: they
// tell orders apart or check the sheet's own figures. A required column
// that a fixed value or a default supplies (for every kind) may be missing
// from the file.
type Profile struct {
	// Description is for humans; fpexport does not read it.
	Description string `json:"description,omitempty"`
	// Columns maps a file's header to a canonical column name ("" ignores it).
	Columns map[string]string `json:"columns,omitempty"`
	// Fixed maps a canonical column to the value of every row.
	Fixed map[string]string `json:"fixed,omitempty"`
	// Defaults maps a kind, or "*", to canonical columns and the values of
	// their empty cells.
	Defaults map[string]map[string]string `json:"defaults,omitempty"`
}

// ProfileError lists everything wrong with a profile.
type ProfileError struct {
	Problems []string
}

func (e *ProfileError) Error() string {
	return "profile: " + strings.Join(e.Problems, "; ")
}

// anyKind is the defaults key for every kind.
const anyKind = "*"

// ParseProfile reads a JSON profile strictly: unknown keys, keys given
// twice, unknown column names, values that do not parse, and defaults that
// can never apply are errors (a *ProfileError naming them). Values in fixed
// and defaults may be JSON strings, numbers or booleans.
func ParseProfile(data []byte) (*Profile, error) {
	if err := checkJSONKeys(data); err != nil {
		return nil, &ProfileError{Problems: []string{err.Error()}}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, &ProfileError{Problems: []string{"not a JSON object: " + err.Error()}}
	}
	if top == nil {
		return nil, &ProfileError{Problems: []string{"not a JSON object"}}
	}
	var problems []string
	p := &Profile{}
	for _, k := range slices.Sorted(maps.Keys(top)) {
		raw := top[k]
		switch k {
		case "description":
			if err := json.Unmarshal(raw, &p.Description); err != nil {
				problems = append(problems, "description: must be a string")
			}
		case "columns":
			var m map[string]json.RawMessage
			if err := json.Unmarshal(raw, &m); err != nil || m == nil {
				problems = append(problems, `columns: must be an object of "file header": "canonical_column"`)
				continue
			}
			p.Columns = map[string]string{}
			for _, h := range slices.Sorted(maps.Keys(m)) {
				var v string
				if err := json.Unmarshal(m[h], &v); err != nil {
					problems = append(problems, fmt.Sprintf("columns.%s: must be a canonical column name in quotes", h))
					continue
				}
				p.Columns[h] = v
			}
		case "fixed":
			m, errs := scalarObject("fixed", raw)
			problems = append(problems, errs...)
			p.Fixed = m
		case "defaults":
			var kinds map[string]json.RawMessage
			if err := json.Unmarshal(raw, &kinds); err != nil || kinds == nil {
				problems = append(problems, `defaults: must be an object of kind (or "*") → {"canonical_column": "value"}`)
				continue
			}
			p.Defaults = map[string]map[string]string{}
			for _, kind := range slices.Sorted(maps.Keys(kinds)) {
				m, errs := scalarObject("defaults."+kind, kinds[kind])
				problems = append(problems, errs...)
				p.Defaults[kind] = m
			}
		default:
			problems = append(problems, fmt.Sprintf("unknown key %q (allowed: description, columns, fixed, defaults)", k))
		}
	}
	if _, err := p.compile(); err != nil {
		var perr *ProfileError
		if errors.As(err, &perr) {
			problems = append(problems, perr.Problems...)
		}
	}
	if len(problems) > 0 {
		return nil, &ProfileError{Problems: problems}
	}
	return p, nil
}

// scalarObject reads {"column": "value" | number | true/false}.
func scalarObject(path string, raw json.RawMessage) (map[string]string, []string) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, []string{path + `: must be an object of "canonical_column": "value"`}
	}
	out := make(map[string]string, len(m))
	var problems []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := bytes.TrimSpace(m[k])
		switch {
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				problems = append(problems, fmt.Sprintf("%s.%s: %v", path, k, err))
				continue
			}
			out[k] = s
		case string(v) == "true" || string(v) == "false":
			out[k] = string(v)
		case len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')):
			out[k] = string(v) // a JSON number, as written
		default:
			problems = append(problems, fmt.Sprintf("%s.%s: must be a string, a number or true/false", path, k))
		}
	}
	return out, problems
}

// checkJSONKeys refuses a key given twice in one object (encoding/json would
// silently keep the last), naming it.
func checkJSONKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var walk func(path string, depth int) error
	walk = func(path string, depth int) error {
		if depth > 10 {
			return errors.New("nested too deeply")
		}
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("not valid JSON: %v", err)
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return nil
		}
		switch d {
		case '{':
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return fmt.Errorf("not valid JSON: %v", err)
				}
				k, _ := kt.(string)
				sub := k
				if path != "" {
					sub = path + "." + k
				}
				if seen[k] {
					return fmt.Errorf("%s: given twice", sub)
				}
				seen[k] = true
				if err := walk(sub, depth+1); err != nil {
					return err
				}
			}
		case '[':
			for dec.More() {
				if err := walk(path+"[]", depth+1); err != nil {
					return err
				}
			}
		}
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("not valid JSON: %v", err)
		}
		return nil
	}
	if err := walk("", 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("not valid JSON: more after the object")
	}
	return nil
}

// Validate checks a profile built in code as ParseProfile checks a file.
func (p *Profile) Validate() error {
	_, err := p.compile()
	return err
}

// profileRules is a checked profile, ready to apply.
type profileRules struct {
	columns   map[string]string            // headerKey → canonical column, "" = not used
	fixed     map[string]string            // canonical column → value
	defaults  map[string]map[string]string // "*" or kind → canonical column → value
	fixedKind fpclient.Kind                // from fixed["kind"], or ""
}

// notProfileColumns cannot be fixed or defaulted.
var notProfileColumns = map[string]string{
	colOrderRef:   "it tells orders apart",
	colLineTotal:  "it is the sheet's own figure, checked against the computed one",
	colOrderTotal: "it is the sheet's own figure, checked against the computed one",
}

// kindUses says whether orders of kind k have the column at all.
func kindUses(col string, k fpclient.Kind) bool {
	switch col {
	case colPaymentMethod:
		return k == fpclient.KindCheckout
	case colReferenceNo, colSendSMS, colSendEmail:
		return k == fpclient.KindPaymentLink
	case colInvoiceFee:
		return k == fpclient.KindInvoice
	case colDueDate, colDueDays:
		return k != fpclient.KindCheckout
	case colCustomerReference:
		return k != fpclient.KindHostedCheckout
	}
	return true
}

// canonicalName reads a column name in a profile: a canonical name in any
// case or with spaces for underscores.
func canonicalName(s string) (string, bool) {
	c := normaliseHeader(s)
	_, ok := columnIndex[c]
	return c, ok
}

func (p *Profile) compile() (*profileRules, error) {
	r := &profileRules{columns: map[string]string{}, fixed: map[string]string{}, defaults: map[string]map[string]string{}}
	if p == nil {
		return r, nil
	}
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	headerOf := map[string]string{}
	for _, h := range slices.Sorted(maps.Keys(p.Columns)) {
		target := p.Columns[h]
		k := headerKey(h)
		if k == "" {
			bad("columns: %q is not a header name", h)
			continue
		}
		col := ""
		if strings.TrimSpace(target) != "" {
			c, ok := canonicalName(target)
			if !ok {
				bad("columns.%s: %q is not a canonical column (see samples/README.md)", h, target)
				continue
			}
			col = c
		}
		if prev, ok := headerOf[k]; ok && r.columns[k] != col {
			bad("columns: %q and %q are the same header but map to different columns", prev, h)
			continue
		}
		headerOf[k] = h
		r.columns[k] = col
	}

	section := func(path string, in map[string]string) map[string]string {
		out := map[string]string{}
		for _, name := range slices.Sorted(maps.Keys(in)) {
			col, ok := canonicalName(name)
			switch {
			case !ok:
				bad("%s: %q is not a canonical column (see samples/README.md)", path, name)
				continue
			case notProfileColumns[col] != "":
				bad("%s.%s: cannot be given in a profile: %s", path, name, notProfileColumns[col])
				continue
			}
			if _, dup := out[col]; dup {
				bad("%s: %s given twice", path, col)
				continue
			}
			out[col] = strings.TrimSpace(in[name])
		}
		for _, col := range slices.Sorted(maps.Keys(out)) {
			v := out[col]
			if v == "" {
				bad("%s.%s: empty; leave the key out", path, col)
				continue
			}
			if err := checkProfileValue(col, v, out); err != nil {
				bad("%s.%s (%q): %v", path, col, v, err)
			}
		}
		return out
	}

	// due_date and due_days say the same thing; a due date in a cell wins
	// over due_days, so a profile giving both would have one silently lose.
	bothDue := func(path string, m map[string]string) {
		if m[colDueDate] != "" && m[colDueDays] != "" {
			bad("%s: give due_date or due_days, not both", path)
		}
	}

	r.fixed = section("fixed", p.Fixed)
	if v, ok := r.fixed[colKind]; ok {
		if k, err := ParseKindCell(v); err == nil {
			r.fixedKind = k
		}
	}
	bothDue("fixed", r.fixed)
	if r.fixedKind != "" {
		for _, col := range slices.Sorted(maps.Keys(r.fixed)) {
			if !kindUses(col, r.fixedKind) {
				bad("fixed.%s: %s orders do not use %s, and the profile fixes kind to %s", col, r.fixedKind, col, r.fixedKind)
			}
		}
	}
	for _, key := range slices.Sorted(maps.Keys(p.Defaults)) {
		path := "defaults." + key
		kind := fpclient.Kind("")
		if key != anyKind {
			k, ok := fpclient.ParseKind(key)
			if !ok || string(k) != key {
				bad("defaults: %q is not a kind (invoice, payment-link, hosted-checkout, checkout) or \"*\"", key)
				continue
			}
			kind = k
		}
		m := section(path, p.Defaults[key])
		r.defaults[key] = m
		bothDue(path, m)
		if (r.fixed[colDueDate] != "" && m[colDueDays] != "") || (r.fixed[colDueDays] != "" && m[colDueDate] != "") {
			bad("%s: due_date and due_days: one is fixed and the other a default; give one of them", path)
		}
		for _, col := range slices.Sorted(maps.Keys(m)) {
			switch {
			case kind != "" && col == colKind:
				bad("%s.kind: a default kind goes under \"*\"", path)
			case kind != "" && !kindUses(col, kind):
				bad("%s.%s: %s orders do not use %s", path, col, kind, col)
			case r.fixed[col] != "":
				bad("%s.%s: also fixed; a fixed value is used for every row, so this default never applies", path, col)
			}
		}
		if kind != "" && r.fixedKind != "" && kind != r.fixedKind {
			bad("%s: never applies, the profile fixes kind to %s", path, r.fixedKind)
		}
	}
	if len(problems) > 0 {
		return nil, &ProfileError{Problems: problems}
	}
	return r, nil
}

// checkProfileValue parses a fixed or default value as a cell of col would
// be parsed. section holds the other values of the same section (a zip code
// is checked against its country).
func checkProfileValue(col, v string, section map[string]string) error {
	var err error
	switch col {
	case colKind:
		_, err = ParseKindCell(v)
	case colCustomerType:
		_, err = ParseCustomerType(v)
	case colEmail:
		_, err = ParseEmail(v)
	case colCountryCode:
		_, err = ParseCountryCode(v)
	case colMSISDN:
		cc := section[colCountryCode]
		if cc == "" {
			cc = "+47"
		}
		_, _, _, err = ParsePhone(cc, v)
	case colPersonalNumber:
		_, err = ParsePersonalNumber(v, true)
	case colOrganizationID:
		_, err = ParseOrganizationID(v)
	case colZip:
		country, _ := ParseCountry(section[colCountry])
		_, err = ParseZip(v, country)
	case colCountry:
		_, err = ParseCountry(v)
	case colPreferredLanguage:
		_, err = ParseLanguage(v)
	case colQuantity:
		_, err = money.ParseQuantity(v)
	case colRate, colDiscount:
		var a fpclient.Amount
		a, err = money.ParseAmount(v)
		if err == nil && a < 0 {
			err = errors.New("negative")
		}
	case colTax:
		_, err = ParseTax(v, anyTaxRate)
	case colOrderDate, colDueDate:
		_, err = ParseDate(v)
	case colDueDays:
		_, err = ParseDueDays(v)
	case colPaymentMethod:
		_, err = ParsePaymentMethod(v)
	case colSendSMS, colSendEmail, colInvoiceFee:
		_, _, err = ParseBool(v)
	default:
		err = checkText(v, maxTextLen)
	}
	return err
}

// anyTaxRate is every whole percentage: a profile is checked before the
// merchant's own rates are known; each row is checked against them.
var anyTaxRate = func() []int {
	r := make([]int, 101)
	for i := range r {
		r[i] = i
	}
	return r
}()

// supplies says whether the profile gives col a value in every row, whatever
// the row's kind: a fixed value, a "*" default, or a default for every kind
// the file can have.
func (r *profileRules) supplies(col string) bool {
	if r == nil {
		return false
	}
	if r.fixed[col] != "" || r.defaults[anyKind][col] != "" {
		return true
	}
	if r.fixedKind != "" {
		return r.defaults[string(r.fixedKind)][col] != ""
	}
	for _, k := range fpclient.Kinds {
		if r.defaults[string(k)][col] == "" {
			return false
		}
	}
	return true
}

// Where a value came from, for reasons: "(from the profile's fixed value)".
const (
	originFixed   = "the profile's fixed value"
	originDefault = "the profile's default"
)

// withProfileFixed copies the lines (never changing the caller's maps) and
// puts the profile's fixed values in them, reporting a cell that says
// otherwise. Without fixed values or defaults it returns the lines as they
// are.
func (b *builder) withProfileFixed(in []Line, errs *errList) []Line {
	if b.rules == nil || len(b.rules.fixed)+len(b.rules.defaults) == 0 {
		return in // nothing to fill: the lines are only read
	}
	out := make([]Line, len(in))
	for i, l := range in {
		l.Fields = maps.Clone(l.Fields)
		if l.Fields == nil {
			l.Fields = map[string]string{}
		}
		l.origin = map[string]string{}
		out[i] = l
	}
	for i := range out {
		l := &out[i]
		for _, col := range slices.Sorted(maps.Keys(b.rules.fixed)) {
			v := b.rules.fixed[col]
			if cell := get(*l, col); cell != "" && b.canonical(col, cell) != b.canonical(col, v) {
				errs.add(*l, col, msg.New("profile.fixed_conflict", msg.Col(col), v))
			}
			l.Fields[col] = v
			l.origin[col] = originFixed
		}
	}
	return out
}

// withProfileDefaults fills empty cells from the profile's defaults for the
// order's kind (kindOK false: only what every kind uses), then "*".
func (b *builder) withProfileDefaults(lines []Line, kind fpclient.Kind, kindOK bool) {
	if b.rules == nil || len(b.rules.defaults) == 0 {
		return
	}
	var sections []map[string]string
	if kindOK {
		sections = append(sections, b.rules.defaults[string(kind)])
	}
	sections = append(sections, b.rules.defaults[anyKind])
	for _, sec := range sections {
		for _, col := range slices.Sorted(maps.Keys(sec)) {
			if col == colKind {
				continue // handled with the kind
			}
			if !usedBy(col, kind, kindOK) {
				continue
			}
			v := sec[col]
			if lineColumns[col] {
				for i := range lines {
					fillDefault(&lines[i], col, v)
				}
				continue
			}
			empty := true
			for _, l := range lines {
				empty = empty && get(l, col) == ""
			}
			if empty {
				fillDefault(&lines[0], col, v)
			}
		}
	}
}

// usedBy says whether an order of kind (or, when the kind is not known,
// of every kind) has the column.
func usedBy(col string, kind fpclient.Kind, kindOK bool) bool {
	if kindOK {
		return kindUses(col, kind)
	}
	for _, k := range fpclient.Kinds {
		if !kindUses(col, k) {
			return false
		}
	}
	return true
}

func fillDefault(l *Line, col, v string) {
	if get(*l, col) != "" {
		return
	}
	if l.origin == nil {
		l.origin = map[string]string{}
	}
	l.Fields[col] = v
	l.origin[col] = originDefault
}

// profileDefaultKind is the profile's default kind ("*" → kind), or "".
func (b *builder) profileDefaultKind() string {
	if b.rules == nil {
		return ""
	}
	return b.rules.defaults[anyKind][colKind]
}
