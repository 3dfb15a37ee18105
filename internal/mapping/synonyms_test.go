package mapping

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestSynonyms: every built-in synonym group, in the spellings people use,
// maps to its column with no profile.
func TestSynonyms(t *testing.T) {
	t.Parallel()
	groups := map[string][]string{
		"order_ref":          {"Ordrenummer", "Ordrenr", "Ordrenr.", "Ordre-ID", "ORDRENUMMER", "ordre nr", "Order number", "Order ID", "Order no.", "\ufeffOrdrenummer"},
		"kind":               {"Type", "Ordretype", "Order type"},
		"customer_type":      {"Kundetype", "Customer type", "Privat/bedrift"},
		"customer_name":      {"Kundenavn", "Kunde", "Navn", "Customer name", "Name", "Firmanavn"},
		"email":              {"E-post", "Epost", "E post", "e_post", "E-mail", "Email", "EMAIL", "E-postadresse"},
		"country_code":       {"Landkode", "Country code"},
		"msisdn":             {"Mobil", "Mobilnummer", "Mobilnr.", "Telefon", "Tlf.", "Mobile", "Phone"},
		"personal_number":    {"Fødselsnummer", "FØDSELSNUMMER", "Fodselsnummer", "Foedselsnummer", "Fnr", "F.nr.", "Personnummer", "D-nummer"},
		"organization_id":    {"Organisasjonsnummer", "Orgnr", "Org.nr.", "Org. nr", "org-nr", "Foretaksnummer", "Organization number", "MVA-nummer"},
		"street":             {"Adresse", "Gateadresse", "Address", "Street"},
		"zip":                {"Postnummer", "Postnr", "Postnr.", "Post nr", "Zip code", "Postal code"},
		"city":               {"Poststed", "Sted", "By", "City"},
		"country":            {"Land", "Country"},
		"preferred_language": {"Språk", "Sprak", "Spraak", "Målform", "Language"},
		"product_id":         {"Varenummer", "Varenr", "Varenr.", "Artikkelnr", "Art.nr.", "Artikkelnummer", "SKU", "Product number"},
		"product_name":       {"Produkt", "Vare", "Beskrivelse", "Produktnavn", "Varetekst", "Description", "Product"},
		"quantity":           {"Antall", "Ant.", "Ant", "Mengde", "Qty", "Quantity"},
		"rate":               {"Pris", "Enhetspris", "Pris inkl. mva", "Pris (inkl. mva)", "Pris inkl mva", "Stk.pris", "À-pris", "Unit price", "Price"},
		"discount":           {"Rabatt", "Rabatt kr", "Rabattbeløp", "Discount"},
		"tax":                {"MVA", "Mva", "Mva-sats", "MVA %", "Mva-sats (%)", "Mva-prosent", "VAT", "VAT rate", "Tax"},
		"line_total":         {"Beløp", "BELØP", "Belop", "Beloep", "Linjesum", "Beløp inkl. mva", "Line total"},
		"order_total":        {"Ordretotal", "Totalbeløp", "Fakturabeløp", "Å betale", "Order total", "Grand total"},
		"order_date":         {"Ordredato", "Dato", "Fakturadato", "Order date", "Date"},
		"due_date":           {"Forfallsdato", "Forfall", "Due date"},
		"due_days":           {"Dager til forfall", "Kredittid", "Due days"},
		"payment_method":     {"Betalingsmåte", "Betalingsmate", "Betalingsmetode", "Payment method"},
		"reference_no":       {"Referanse", "Vår referanse", "Var referanse", "Vår ref.", "Our reference", "Reference no"},
		"customer_reference": {"Deres referanse", "Deres ref.", "Kundereferanse", "Your reference", "Customer reference"},
		"send_sms":           {"Send SMS", "SMS", "Send på SMS"},
		"send_email":         {"Send e-post", "Send epost", "Send e-mail", "Send email"},
		"invoice_fee":        {"Fakturagebyr", "Gebyr", "Invoice fee"},
	}
	for _, col := range CanonicalColumns {
		if len(groups[col]) == 0 {
			t.Errorf("no synonyms tested for %s", col)
		}
	}
	for col, names := range groups {
		for _, name := range names {
			got, _, ok := lookupSynonym(name)
			if !ok || got != col {
				t.Errorf("%q: got %q, %v, want %s", name, got, ok, col)
			}
			hm, unknown, _ := MapHeader([]string{"x", name})
			if hm[col] != 1 || len(unknown) != 1 {
				t.Errorf("MapHeader(%q): got %v, unknown %v, want %s at 1", name, hm, unknown, col)
			}
		}
	}
}

// TestSynonymsNotGuessed: headers that could mean another column are not
// read, and say why.
func TestSynonymsNotGuessed(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ header, hint string }{
		{"Rabatt %", "a discount in percent"},
		{"Rabatt (%)", "a discount in percent"},
		{"Rabattprosent", "a discount in percent"},
		{"Pris eks. mva", "a price without VAT"},
		{"Pris ekskl. mva", "a price without VAT"},
		{"Nettopris", "a price without VAT"},
		{"Beløp eks. mva", "an amount without VAT"},
		{"MVA-beløp", "a VAT amount"},
		{"Mva kr", "a VAT amount"},
		{"Mva-kode", "a VAT code"},
		{"Sum", "line_total or order_total"},
		{"Totalt", "line_total or order_total"},
		{"Nr.", "which number?"},
		{"Ref.", "which reference?"},
		{"Kundenr", "a customer number"},
		{"Antall %", "a percentage; quantity is not a percentage"},
		{"Notater", ""},
	} {
		if col, _, ok := lookupSynonym(tt.header); ok {
			t.Errorf("%q: read as %s, want it not read", tt.header, col)
		}
		hm, unknown, _ := MapHeader([]string{tt.header})
		if len(hm) != 0 || !slices.Equal(unknown, []string{tt.header}) {
			t.Errorf("MapHeader(%q): got %v, unknown %v", tt.header, hm, unknown)
		}
		if got := HeaderHint(tt.header); (tt.hint == "") != (got == "") || !strings.Contains(got, tt.hint) {
			t.Errorf("HeaderHint(%q): got %q, want it to contain %q", tt.header, got, tt.hint)
		}
	}
	// No header is both read and explained away.
	for k := range headerHints {
		if s, ok := synonyms[k]; ok {
			t.Errorf("header key %q is a synonym of %s and has a hint", k, s.col)
		}
	}
}

// TestSynonymRanks: the more specific of two headers for one column wins;
// two equally specific ones are an error, never a guess.
func TestSynonymRanks(t *testing.T) {
	t.Parallel()
	base := []string{"Ordrenummer", "Kundetype", "E-post", "Produkt", "Antall", "Pris", "MVA %"}
	tests := []struct {
		extra     []string
		col       string
		want      string // the header used for col; "" = duplicate error
		notUsed   []string
		duplicate bool
	}{
		{[]string{"Telefon", "Mobil", "Kundenavn"}, "msisdn", "Mobil", []string{"Telefon"}, false},
		{[]string{"Mobil", "Kunde", "Kundenavn"}, "customer_name", "Kundenavn", []string{"Kunde"}, false},
		{[]string{"Mobil", "Kunde", "Navn"}, "customer_name", "", nil, true},
		{[]string{"Mobil", "Kundenavn", "Enhetspris"}, "rate", "Enhetspris", []string{"Pris"}, false},
		{[]string{"Mobil", "Kundenavn", "MVA"}, "tax", "MVA %", []string{"MVA"}, false},
		{[]string{"Mobil", "Kundenavn", "Epost"}, "email", "", nil, true},
		{[]string{"Mobil", "Kundenavn", "email"}, "email", "email", []string{"E-post"}, false},
	}
	for _, tt := range tests {
		header := append(slices.Clone(base), tt.extra...)
		hm, unknown, err := MapHeader(header)
		var herr *HeaderError
		if tt.duplicate {
			if !errors.As(err, &herr) || !slices.Equal(herr.Duplicates, []string{tt.col}) {
				t.Errorf("%v: got %v, want duplicate %s", tt.extra, err, tt.col)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: got error %v", tt.extra, err)
			continue
		}
		if got := header[hm[tt.col]]; got != tt.want {
			t.Errorf("%v: %s is %q, want %q", tt.extra, tt.col, got, tt.want)
		}
		if !slices.Equal(unknown, tt.notUsed) {
			t.Errorf("%v: not used %v, want %v", tt.extra, unknown, tt.notUsed)
		}
	}
}

// TestHeaderErrorHints: a missing required column names the header that
// looked like it.
func TestHeaderErrorHints(t *testing.T) {
	t.Parallel()
	header := []string{"Ordrenummer", "Kundetype", "Kundenavn", "E-post", "Mobil", "Produkt", "Antall", "Beløp", "Pris eks. mva", "MVA-beløp"}
	_, unknown, err := MapHeader(header)
	var herr *HeaderError
	if !errors.As(err, &herr) || !slices.Equal(herr.Missing, []string{"rate", "tax"}) {
		t.Fatalf("got %v, want rate and tax missing", err)
	}
	if !slices.Equal(unknown, []string{"Pris eks. mva", "MVA-beløp"}) {
		t.Errorf("not used: got %v", unknown)
	}
	msg := err.Error()
	for _, want := range []string{
		"missing required columns: rate, tax",
		`"Pris eks. mva" is not read as rate: a price without VAT`,
		`"Beløp" is read as line_total, the line's total including VAT`,
		`"columns": {"Beløp": "rate"}`,
		`"MVA-beløp" is not read as tax: a VAT amount`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

func TestHeaderKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Fødselsnummer": "fodselsnummer", "Foedselsnummer": "fodselsnummer", "FØDSELSNUMMER": "fodselsnummer",
		"Org.nr.": "orgnr", " org - nr ": "orgnr", "MVA %": "mva", "Språk": "sprak", "Spraak": "sprak",
		"Kjæreste": "kjaereste", "\ufeffE-post": "epost", "Å betale": "abetale", "Målform": "malform",
		"": "", "%": "", "Order_Ref": "orderref",
	} {
		if got := headerKey(in); got != want {
			t.Errorf("headerKey(%q): got %q, want %q", in, got, want)
		}
	}
}
