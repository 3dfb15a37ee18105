package mapping

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestMapHeader(t *testing.T) {
	t.Parallel()
	header := []string{"\ufeffOrder Ref", "KIND", "customer-type", " customer_name ", "E-mail", "Email",
		"mobile", "Product Name", "quantity", "rate", "tax", "Notes", "", "order  date"}
	hm, unknown, err := MapHeader(header)
	var herr *HeaderError
	if !errors.As(err, &herr) {
		t.Fatalf("MapHeader: got error %v, want a *HeaderError", err)
	}
	if len(herr.Missing) != 0 {
		t.Errorf("Missing: got %v, want none (mobile is msisdn)", herr.Missing)
	}
	if want := []string{"email"}; !slices.Equal(herr.Duplicates, want) {
		t.Errorf("Duplicates: got %v, want %v", herr.Duplicates, want)
	}
	if want := []string{"Notes"}; !slices.Equal(unknown, want) {
		t.Errorf("unrecognised: got %v, want %v", unknown, want)
	}
	for col, pos := range map[string]int{"order_ref": 0, "kind": 1, "customer_type": 2, "customer_name": 3, "msisdn": 6, "order_date": 13} {
		if got, ok := hm[col]; !ok || got != pos {
			t.Errorf("hm[%s]: got %d, %v, want %d", col, got, ok, pos)
		}
	}

	_, _, err = MapHeader(append(slices.Clone(RequiredColumns), "Rate"))
	if !errors.As(err, &herr) || !slices.Equal(herr.Duplicates, []string{"rate"}) || len(herr.Missing) != 0 {
		t.Errorf("duplicate rate: got %v, want a HeaderError with Duplicates [rate]", err)
	}
	if got, want := err.Error(), "header: columns given more than once: rate (keep one, or name the one to use in a profile)"; got != want {
		t.Errorf("Error(): got %q, want %q", got, want)
	}

	hm, unknown, err = MapHeader(CanonicalColumns)
	if err != nil || len(unknown) != 0 || len(hm) != len(CanonicalColumns) {
		t.Errorf("MapHeader(CanonicalColumns): got %d columns, %v, %v; want all, none, nil", len(hm), unknown, err)
	}
}

func TestMapHeaderProfile(t *testing.T) {
	t.Parallel()
	profile := &Profile{Columns: map[string]string{"Ordrenummer": "order_ref", "Kundenavn": "customer_name", "E-post": "email",
		"Beløp": "rate", "MVA": "tax", "Antall": "quantity", "Produkt": "product_name", "Mobil": "msisdn", "Kundetype": "customer_type"}}
	header := []string{"ordrenummer", "Kundetype", "Kundenavn", "e-post", "Mobil", "Produkt", "Antall", "Beløp", "MVA", "Order_Ref2"}
	hm, unknown, err := MapHeaderProfile(header, profile)
	if err != nil {
		t.Fatalf("MapHeaderProfile: got error %v, want nil", err)
	}
	if hm["email"] != 3 || hm["rate"] != 7 {
		t.Errorf("got email at %d and rate at %d, want 3 and 7", hm["email"], hm["rate"])
	}
	if want := []string{"Order_Ref2"}; !slices.Equal(unknown, want) {
		t.Errorf("unrecognised: got %v, want %v", unknown, want)
	}
	_, _, err = MapHeaderProfile(header, &Profile{Columns: map[string]string{"x": "not_a_column"}})
	var perr *ProfileError
	if !errors.As(err, &perr) || !strings.Contains(err.Error(), `"not_a_column" is not a canonical column`) {
		t.Errorf("bad profile: got %v, want a ProfileError naming not_a_column", err)
	}
}

func TestHeaderMapLine(t *testing.T) {
	t.Parallel()
	hm := HeaderMap{"order_ref": 0, "rate": 2}
	l := hm.Line("a.csv", 2, []string{"A-1", "ignored"})
	if l.Source != "a.csv" || l.Row != 2 || l.Fields["order_ref"] != "A-1" || l.Fields["rate"] != "" {
		t.Errorf("Line: got %+v", l)
	}
}

func TestColumnSets(t *testing.T) {
	t.Parallel()
	if len(CanonicalColumns) != 31 {
		t.Errorf("CanonicalColumns: got %d, want 31", len(CanonicalColumns))
	}
	for _, c := range RequiredColumns {
		if _, ok := columnIndex[c]; !ok {
			t.Errorf("required column %q is not canonical", c)
		}
	}
	for c := range lineColumns {
		if _, ok := columnIndex[c]; !ok {
			t.Errorf("line column %q is not canonical", c)
		}
	}
}

func FuzzMapHeader(f *testing.F) {
	f.Add("order ref", "Order-Ref", "\ufeffrate")
	f.Add("", "x", "TAX")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		header := append(slices.Clone(RequiredColumns), a, b, c)
		hm, unknown, _ := MapHeader(header)
		for col, pos := range hm {
			if _, ok := columnIndex[col]; !ok || pos < 0 || pos >= len(header) {
				t.Fatalf("MapHeader: %q → %d", col, pos)
			}
		}
		if len(hm)+len(unknown) > len(header) {
			t.Fatalf("MapHeader: %d mapped + %d unknown > %d cells", len(hm), len(unknown), len(header))
		}
	})
}

// Ref and Blank read a record's cells as the builder reads its Line: the
// reader groups rows with them before any Line exists.
func TestRefAndBlankAgreeWithLine(t *testing.T) {
	hm := HeaderMap{colOrderRef: 0, colCustomerName: 1, "rate": 2} // column 3 is not mapped
	for _, rec := range [][]string{
		{"SO-1", "Kari", "10"},
		{" SO-2 ", "", ""},
		{"", "Kari", ""},
		{"", " ", "\t"},
		{"", "", "", "only an unmapped cell"},
		{},
		{"SO-3"},
	} {
		l := hm.Line("f.csv", 2, rec)
		if got, want := hm.Ref(rec), strings.TrimSpace(l.Fields[colOrderRef]); got != want {
			t.Errorf("Ref(%q) = %q, want %q", rec, got, want)
		}
		if got, want := hm.Blank(rec), blank(l); got != want {
			t.Errorf("Blank(%q) = %v, want %v", rec, got, want)
		}
	}
}
