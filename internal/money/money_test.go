package money

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestNOK: the machines' text (FP's JSON, the CLI, JSON and CSV reports).
func TestNOK(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ore  Amount
		want string
	}{
		{0, "0.00"},
		{5, "0.05"},
		{-5, "-0.05"},
		{10010, "100.10"},
		{401786, "4017.86"},
		{450000, "4500.00"},
		{-450001, "-4500.01"},
		{123456789, "1234567.89"}, // never grouped
		{MaxGrandTotal, "1000000000.00"},
		{math.MaxInt64, "92233720368547758.07"},
		{math.MinInt64, "-92233720368547758.08"},
	} {
		if got := tc.ore.NOK(); got != tc.want {
			t.Errorf("Amount(%d).NOK() = %q, want %q", tc.ore, got, tc.want)
		}
		if got, _ := tc.ore.MarshalJSON(); string(got) != tc.want {
			t.Errorf("Amount(%d).MarshalJSON() = %s, want %s", tc.ore, got, tc.want)
		}
		comma := strings.Replace(tc.want, ".", ",", 1)
		if got := tc.ore.AppendNOK([]byte("x"), ','); string(got) != "x"+comma {
			t.Errorf("Amount(%d).AppendNOK(x, ',') = %q, want %q", tc.ore, got, "x"+comma)
		}
	}
}

// TestDisplay: the page's text, grouped, Norwegian with a no-break space.
func TestDisplay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ore    Amount
		no, en string
	}{
		{0, "0,00", "0.00"},
		{5, "0,05", "0.05"},
		{-5, "-0,05", "-0.05"},
		{99999, "999,99", "999.99"},
		{100000, "1\u00a0000,00", "1,000.00"},
		{123456, "1\u00a0234,56", "1,234.56"},
		{-100000050, "-1\u00a0000\u00a0000,50", "-1,000,000.50"},
		{math.MaxInt64, "92\u00a0233\u00a0720\u00a0368\u00a0547\u00a0758,07", "92,233,720,368,547,758.07"},
		{math.MinInt64, "-92\u00a0233\u00a0720\u00a0368\u00a0547\u00a0758,08", "-92,233,720,368,547,758.08"},
	} {
		if got := tc.ore.Display("no"); got != tc.no {
			t.Errorf("%d no: got %q, want %q", tc.ore, got, tc.no)
		}
		if got := tc.ore.Display(""); got != tc.no {
			t.Errorf("%d default: got %q, want %q (Norwegian)", tc.ore, got, tc.no)
		}
		if got := tc.ore.Display("en"); got != tc.en {
			t.Errorf("%d en: got %q, want %q", tc.ore, got, tc.en)
		}
		// What the page shows, an accountant may paste back into a sheet.
		if tc.ore != math.MaxInt64 && tc.ore != math.MinInt64 {
			if back, err := ParseAmount(tc.no); err != nil || back != tc.ore {
				t.Errorf("ParseAmount(%q) = %d, %v; want %d", tc.no, back, err, tc.ore)
			}
		}
	}
}

func TestQuantityString(t *testing.T) {
	t.Parallel()
	for q, want := range map[Quantity]string{
		0: "0", 1: "0.001", 10: "0.01", 100: "0.1", 1000: "1", 1500: "1.5", 1230: "1.23",
		-1500: "-1.5", MaxQuantity: "1000000", math.MaxInt64: "9223372036854775.807",
		math.MinInt64: "-9223372036854775.808",
	} {
		if got := q.String(); got != want {
			t.Errorf("Quantity(%d).String() = %q, want %q", q, got, want)
		}
		if got, _ := q.MarshalJSON(); string(got) != want {
			t.Errorf("Quantity(%d).MarshalJSON() = %s, want %s", q, got, want)
		}
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	b, _ := json.Marshal(struct {
		A Amount   `json:"a"`
		Q Quantity `json:"q"`
	}{401786, 1500})
	if string(b) != `{"a":4017.86,"q":1.5}` {
		t.Errorf("got %s", b)
	}
	var v struct {
		A, B, C, D Amount
		Q, R       Quantity
	}
	if err := json.Unmarshal([]byte(`{"A":"40","B":0.1,"C":"4017.86","D":-0.05,"Q":" 1.5 ","R":0.001}`), &v); err != nil ||
		v.A != 4000 || v.B != 10 || v.C != 401786 || v.D != -5 || v.Q != 1500 || v.R != 1 {
		t.Errorf("got %+v, %v", v, err)
	}
	for _, in := range []string{`{"A":1.005}`, `{"A":"1,5"}`, `{"A":"1 000"}`, `{"A":true}`, `{"A":"kr 5"}`, `{"Q":1.0005}`} {
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("Unmarshal(%s): no error", in)
		}
	}
	err := json.Unmarshal([]byte(`{"A":1.005}`), &v)
	if err == nil || !strings.Contains(err.Error(), "amount 1.005: more than 2 decimals") {
		t.Errorf("Unmarshal 1.005: got %v, want amount 1.005: more than 2 decimals", err)
	}
}

func TestParsePlain(t *testing.T) {
	t.Parallel()
	// Moved from fpclient (TestParseDecimalRefusesOddInput).
	for _, in := range []string{"--5", "1.-5", "1.+5", "+5", "", ".", "-", "1e3", "100000000000000000", "1 000"} {
		if v, err := ParsePlain(in, 2); err == nil {
			t.Errorf("ParsePlain(%q) = %d, want an error", in, v)
		}
	}
	for in, want := range map[string]int64{"0": 0, "-0.5": -50, ".5": 50, "5.": 500, "4017.86": 401786, "00012.10": 1210, "1.230": 123} {
		if v, err := ParsePlain(in, 2); err != nil || v != want {
			t.Errorf("ParsePlain(%q) = %d, %v; want %d", in, v, err, want)
		}
	}
	// Strict where a spreadsheet is forgiving: no float noise, no commas,
	// and the exact int64 range rather than 18 digits.
	for _, tc := range []struct {
		in    string
		scale int
		want  int64
		err   string
	}{
		{"0.30000000000000004", 2, 0, "more than 2 decimals"},
		{"4499.999999999999", 2, 0, "more than 2 decimals"},
		{"1.0005", 3, 0, "more than 3 decimals"},
		{"1.5000000", 3, 1500, ""},
		{"1,5", 2, 0, "not a number"},
		{"92233720368547758.07", 2, math.MaxInt64, ""},
		{"-92233720368547758.07", 2, -math.MaxInt64, ""},
		{"92233720368547758.08", 2, 0, "too large"},
		{"-92233720368547758.08", 2, 0, "too large"},
		{"9223372036854775807", 0, math.MaxInt64, ""},
		{"0000000000000000000000001", 0, 1, ""},
	} {
		v, err := ParsePlain(tc.in, tc.scale)
		switch {
		case tc.err == "" && (err != nil || v != tc.want):
			t.Errorf("ParsePlain(%q, %d) = %d, %v; want %d", tc.in, tc.scale, v, err, tc.want)
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("ParsePlain(%q, %d) = %d, %v; want error %q", tc.in, tc.scale, v, err, tc.err)
		}
	}
}

// TestParseEdges: the spreadsheet reader at its edges: sign, zero, the
// rounding rule for float noise, the largest values, separators.
func TestParseEdges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Amount
		err  string
	}{
		{"-0", 0, ""},
		{"-0,00", 0, ""},
		{"0,00", 0, ""},
		{"- 5", -500, ""},          // space after the sign is trimmed
		{"−1 234,50", -123450, ""}, // U+2212 and a grouped number
		{"-kr 5", 0, "not an amount"},
		// The rounding rule: beyond the øre, four 9s round up and four 0s
		// round down (within 1e-6: float noise); anything else is refused.
		{"0.009999", 1, ""},
		{"0.0099991", 1, ""},
		{"0.009998", 0, "more than 2 decimals"},
		{"0.0100001", 1, ""},
		{"0.01000099", 1, ""}, // only 4 noise digits are read: 0.01|0000|99
		{"0.010001", 0, "more than 2 decimals"},
		{"0.0101", 0, "more than 2 decimals"},
		{"0.005", 0, "more than 2 decimals"},
		{"-0.009999", -1, ""},
		{"0.99999999", 100, ""},
		// The largest: 16 digits of kroner; 17 is too large before any sum.
		{"9999999999999999,99", 999999999999999999, ""},
		{"9 999 999 999 999 999,99", 999999999999999999, ""},
		{"-9999999999999999,99", -999999999999999999, ""},
		{"10000000000000000", 0, "too large"},
		{"0000000000000000000001", 100, ""}, // leading zeros are not digits
		// Thousands separators: ordinary, no-break, narrow no-break space,
		// points or commas, but one kind and groups of three.
		{"1 000 000", 100000000, ""},
		{"1\u00a0000\u00a0000,00", 100000000, ""},
		{"1\u202f000", 100000, ""},
		{"1\t000", 100000, ""},
		{"1 000.000,00", 0, "thousands separators"},
		{"1\u00a0000 000", 100000000, ""}, // every kind of space is one kind
		{"12 3456", 0, "thousands separators"},
		{"1234 567", 0, "thousands separators"},
		{"1.234", 0, "write it without the separator"},
		{"0,123", 0, "more than 2 decimals"},
	} {
		got, err := ParseAmount(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseAmount(%q) = %d, %v; want an error containing %q", tc.in, got, err, tc.err)
		}
	}
	if _, err := ParseAmount("0,123"); err != nil && strings.Contains(err.Error(), "without the separator") {
		t.Errorf("ParseAmount(0,123): %v; 0,123 cannot mean 0123", err)
	}
}

// TestParseAmountCutsTheCell: a hostile cell is quoted in 80 characters.
func TestParseAmountCutsTheCell(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("1", 30<<10) + ",234"
	_, err := ParseAmount(in)
	if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), strings.Repeat("1", 80)+"…") {
		t.Errorf("got %.300v (%d bytes), want a short reason quoting 80 digits and …", err, len(err.Error()))
	}
}

func TestParseQuantityEdges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Quantity
		err  string
	}{
		{"1 000 000", MaxQuantity, ""},
		{"1 000 000,001", 0, "more than 1000000"},
		{"99999999999999999", 0, "more than 1000000"},
		{"0,0009999", 1, ""}, // float noise just below a thousandth
		{"0,000", 0, "must be more than 0"},
		{"-0,5", 0, "must be more than 0"},
		{"1,0001", 0, "more than 3 decimals"},
		{"1 00", 0, "thousands separators"},
		{"2 stk", 0, "not a number"},
	} {
		got, err := ParseQuantity(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseQuantity(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseQuantity(%q) = %d, %v; want an error containing %q", tc.in, got, err, tc.err)
		}
	}
}

// FuzzParsePlain: never panics; an accepted JSON number formats back to
// text that parses to the same value.
func FuzzParsePlain(f *testing.F) {
	for _, s := range []string{"0", "-0.5", ".5", "5.", "4017.86", "1.230", "92233720368547758.07", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParsePlain(s, 2)
		if err != nil {
			return
		}
		if back, err := ParsePlain(Amount(v).NOK(), 2); err != nil || back != v {
			t.Fatalf("ParsePlain(%q) = %d; ParsePlain(%q) = %d, %v", s, v, Amount(v).NOK(), back, err)
		}
	})
}
