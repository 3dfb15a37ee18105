package fpfake

import (
	"encoding/json"
	"math/big"
	"testing"
)

func TestDisplayName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"customerDetails.email":          "customer details.email",
		"orderSummary.subTotal":          "order summary.sub total",
		"callback.callbackUrl":           "callback.callback url",
		"isCreditCheckAvailable":         "is credit check available",
		"customerDetails.organizationId": "customer details.organization id",
		"fpgoUuid":                       "fpgo uuid",
		"products":                       "products",
		"invoice_fee":                    "invoice fee",
	} {
		if got := displayName(in); got != want {
			t.Errorf("displayName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNumber(t *testing.T) {
	t.Parallel()
	for in, want := range map[any]string{
		json.Number("4500"):    "4500/1",
		json.Number("4017.86"): "401786/100",
		json.Number("1e2"):     "100/1",
		json.Number("-0.5"):    "-1/2",
		"40":                   "40/1",
		"0.00":                 "0/1",
		"1.":                   "1/1",
		".5":                   "1/2",
		"+3":                   "3/1",
	} {
		r, ok := number(in)
		if !ok || r.Cmp(mustRat(want)) != 0 {
			t.Errorf("number(%#v) = %v, %v; want %s", in, r, ok, want)
		}
	}
	for _, in := range []any{"", " 1", "1 ", "4,5", "1e999", "0x10", "NaN", "1/2", true, nil, []any{}} {
		if _, ok := number(in); ok {
			t.Errorf("number(%#v) accepted", in)
		}
	}
}

func mustRat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

func TestCents(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{
		"4017.857": 401786, "0.005": 1, "-0.005": -1, "0.0049": 0, "1.5": 150, "99.999": 10000,
	} {
		r, _ := number(in)
		if got := cents(r).Int64(); got != want {
			t.Errorf("cents(%s) = %d, want %d", in, got, want)
		}
	}
}

func TestValidURL(t *testing.T) {
	t.Parallel()
	good := []string{
		"https://your-callback-url.com/callback",
		"https://wp.frontpayment.no/?order_identifier=rRbl1FWZG59o&order_status=success",
		"http://127.0.0.1:8080/cb?ref=1&token=x",
		"http://localhost/cb",
		"http://[::1]:9000/cb",
		"https://example.com/a%20b",
		"https://bruker:passord@example.com/cb",
	}
	bad := []string{
		"", "example.com/cb", "ftp://example.com", "https://", "https:///path", "https://exa mple.com",
		"https://example.com/a b", "https://example.com/%zz", "mailto:kari@nordmann.no", "https://example.com:99999/",
		"https://exa*mple.com/", "javascript:alert(1)", "https://example.com/{x}",
	}
	for _, s := range good {
		if !validURL(s) {
			t.Errorf("validURL(%q) = false", s)
		}
	}
	for _, s := range bad {
		if validURL(s) {
			t.Errorf("validURL(%q) = true", s)
		}
	}
}

func TestValidEmail(t *testing.T) {
	t.Parallel()
	good := []string{"kari@nordmann.no", "john_doe@yopmail.com", "a.b+c@sub.example.co.uk", "x@xn--bcher-kva.example"}
	bad := []string{"", "kari", "kari@", "@nordmann.no", "kari@nordmann", "example@domain.test@yopmail.com",
		"kari @nordmann.no", "kari..n@nordmann.no", ".kari@nordmann.no", "kari@-nordmann.no", "kari@nordmann.n0", "kåri@nordmann.no"}
	for _, s := range good {
		if !validEmail(s) {
			t.Errorf("validEmail(%q) = false", s)
		}
	}
	for _, s := range bad {
		if validEmail(s) {
			t.Errorf("validEmail(%q) = true", s)
		}
	}
}

func TestListKeys(t *testing.T) {
	t.Parallel()
	if k, ok := listKeys(map[string]any{"1": 1, "0": 0}); !ok || len(k) != 2 || k[0] != "0" {
		t.Errorf("object keyed 0,1: %v %v", k, ok)
	}
	for _, v := range []any{map[string]any{"1": 1}, map[string]any{"a": 1}, map[string]any{"00": 1}, "x"} {
		if _, ok := listKeys(v); ok {
			t.Errorf("listKeys(%v) accepted", v)
		}
	}
}

func TestFireSpread(t *testing.T) {
	t.Parallel()
	for _, rate := range []float64{0.1, 0.25, 0.3, 0.7, 1.0 / 3} {
		st := newFaultState(Faults{})
		first := 0
		n := 0
		for range 1000 {
			if st.fire("x", &first, rate) {
				n++
			}
		}
		if want := int(rate*1000 + 0.999999); n != want {
			t.Errorf("rate %v: %d of 1000, want %d", rate, n, want)
		}
	}
}

func TestPHPString(t *testing.T) {
	t.Parallel()
	for in, want := range map[any]string{json.Number("12"): "12", json.Number("12.0"): "12", json.Number("12.5"): "12.5", "12.0": "12.0", true: "1"} {
		if got, _ := phpString(in); got != want {
			t.Errorf("phpString(%#v) = %q, want %q", in, got, want)
		}
	}
}
