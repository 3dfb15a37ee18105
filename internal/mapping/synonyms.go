package mapping

import (
	"fmt"
	"github.com/frontpayment/fpexport/internal/msg"
	"strings"
	"unicode"
)

// Built-in header synonyms: the Norwegian and English names accountants and
// ERP exports give the canonical columns. They work without any profile; a
// profile's "columns" come first.
//
// Matching is by headerKey: lower case, æ/ø/å and their ASCII spellings
// (ae, o/oe, a/aa) alike, and everything but letters and digits dropped, so
// "Org.nr.", "org nr" and "ORGNR" are one, as are "MVA %" and "mva",
// "Beløp", "Belop" and "Beloep".
//
// A header that could mean two columns is not guessed:
//
//   - "Beløp" is the line's total in a Norwegian invoice, not the unit price:
//     it maps to line_total, which is checked against quantity × rate −
//     discount, so that a sheet whose "Beløp" is the unit price fails loudly
//     (rate is then missing, and the header error says how to map it).
//   - A header with "%" maps only to tax: "Rabatt %" is a percentage, and
//     discount is an amount in NOK, so it is not read.
//   - Prices and amounts without VAT ("Pris eks. mva", "Nettopris"), VAT
//     amounts ("MVA-beløp"), VAT codes ("Mva-kode"), and bare "Sum", "Total",
//     "Nr" are not read; HeaderHint says why.
//   - When two headers of a file mean the same column, the more specific one
//     wins and the other is listed as not used: "Mobil" over "Telefon",
//     "Kundenavn" over "Kunde", "Enhetspris" over "Pris", "MVA %" over "MVA".
//     Two equally specific ones ("Kunde" and "Navn") are a header error.

// Ranks: the lower wins when two headers of a file mean the same column.
const (
	rankExact    = 0 // the canonical name, or a profile's own mapping
	rankSpecific = 1
	rankGeneric  = 2
)

type synonym struct {
	col  string
	rank int
}

// synonymSpecs lists, per column, its specific and its generic names. The
// canonical name itself is added with rankExact.
var synonymSpecs = []struct {
	col      string
	specific []string
	generic  []string
}{
	{colOrderRef, []string{"Ordrenummer", "Ordrenr", "Ordre-ID", "Ordre nr", "Ordrereferanse", "Bestillingsnummer", "Bestillingsnr",
		"Order number", "Order no", "Order ID", "Order reference"}, []string{"Ordre", "Order"}},
	{colKind, []string{"Ordretype", "Order type", "Type ordre"}, []string{"Type"}},
	{colCustomerType, []string{"Kundetype", "Customer type", "Type kunde", "Privat/bedrift", "Privat eller bedrift"}, nil},
	{colCustomerName, []string{"Kundenavn", "Customer name", "Firmanavn", "Fullt navn", "Full name", "Navn på kunde"},
		[]string{"Kunde", "Navn", "Customer", "Name"}},
	{colEmail, []string{"E-post", "E-mail", "E-postadresse", "Email address", "E-post kunde"}, []string{"Mail"}},
	{colCountryCode, []string{"Landkode", "Landskode", "Country code", "Calling code", "Landkode telefon", "Telefon landkode"}, nil},
	{colMSISDN, []string{"Mobil", "Mobilnummer", "Mobilnr", "Mobiltelefon", "Mobile", "Mobile number", "Mobile phone"},
		[]string{"Telefon", "Telefonnummer", "Telefonnr", "Tlf", "Tlf nr", "Phone", "Phone number"}},
	{colPersonalNumber, []string{"Fødselsnummer", "Fødselsnr", "Fnr", "Personnummer", "Personnr", "D-nummer",
		"Fødselsnummer/D-nummer", "National identity number", "National ID", "Personal number", "Personal ID"}, nil},
	{colOrganizationID, []string{"Organisasjonsnummer", "Organisasjonsnr", "Orgnr", "Org.nr.", "Org nummer", "Foretaksnummer",
		"Organization number", "Organisation number", "Org number", "Company number", "Company ID"},
		[]string{"MVA-nummer", "MVA-nr", "VAT number", "VAT no"}},
	{colStreet, []string{"Gateadresse", "Postadresse", "Street address", "Address line 1", "Adresselinje 1"},
		[]string{"Adresse", "Address", "Street"}},
	{colZip, []string{"Postnummer", "Postnr", "Post nr", "Postkode", "Zip code", "Postal code", "Postcode"}, nil},
	{colCity, []string{"Poststed", "City", "Town"}, []string{"Sted", "By"}},
	{colCountry, []string{"Land", "Country"}, nil},
	{colPreferredLanguage, []string{"Språk", "Language", "Preferred language", "Målform", "Kundespråk"}, nil},
	{colProductID, []string{"Varenummer", "Varenr", "Artikkelnummer", "Artikkelnr", "Art.nr.", "Produktnummer", "Produktnr",
		"Produkt-ID", "Vare-ID", "SKU", "Item number", "Item no", "Article number", "Product number"}, nil},
	{colProductName, []string{"Produktnavn", "Varenavn", "Varetekst", "Varebeskrivelse", "Produktbeskrivelse",
		"Product name", "Item name", "Item description"},
		[]string{"Produkt", "Vare", "Beskrivelse", "Tekst", "Description", "Product", "Item"}},
	{colQuantity, []string{"Antall", "Ant.", "Antall enheter", "Antall stk", "Mengde", "Qty", "Quantity"}, nil},
	{colRate, []string{"Enhetspris", "Pris inkl. mva", "Pris inkludert mva", "Enhetspris inkl. mva", "Stykkpris", "Stk.pris",
		"À-pris", "Unit price", "Price incl. VAT", "Unit price incl. VAT"}, []string{"Pris", "Price"}},
	{colDiscount, []string{"Rabatt", "Rabatt kr", "Rabattbeløp", "Discount", "Discount amount"}, nil},
	{colTax, []string{"Mva-sats", "Mva-prosent", "Mva-sats %", "VAT rate", "Tax rate"}, []string{"MVA", "VAT"}},
	{colLineTotal, []string{"Beløp", "Beløp inkl. mva", "Linjesum", "Linjebeløp", "Linjetotal", "Sum linje",
		"Line total", "Line amount"}, nil},
	{colOrderTotal, []string{"Ordretotal", "Ordresum", "Ordrebeløp", "Totalbeløp", "Fakturabeløp", "Å betale", "Total å betale",
		"Order total", "Grand total", "Invoice total", "Total amount"}, nil},
	{colOrderDate, []string{"Ordredato", "Bestillingsdato", "Fakturadato", "Kjøpsdato", "Salgsdato", "Order date", "Invoice date"},
		[]string{"Dato", "Date"}},
	{colDueDate, []string{"Forfallsdato", "Forfallsdag", "Due date"}, []string{"Forfall", "Due"}},
	{colDueDays, []string{"Dager til forfall", "Forfallsdager", "Kredittid", "Kredittdager", "Betalingsfrist dager",
		"Due days", "Days until due", "Payment terms days"}, nil},
	{colPaymentMethod, []string{"Betalingsmåte", "Betalingsmetode", "Betalingsform", "Payment method"}, nil},
	{colReferenceNo, []string{"Vår referanse", "Vår ref", "Referansenummer", "Referansenr", "Our reference", "Our ref",
		"Reference number", "Reference no"}, []string{"Referanse", "Reference"}},
	{colCustomerReference, []string{"Deres referanse", "Deres ref", "Kundereferanse", "Kundens referanse", "Kunderef",
		"Your reference", "Your ref", "Customer reference", "Customer ref"}, nil},
	{colSendSMS, []string{"Send SMS", "SMS", "Send på SMS", "Send via SMS", "Varsle på SMS", "SMS-varsel"}, nil},
	{colSendEmail, []string{"Send e-post", "Send epost", "Send e-mail", "Send på e-post", "Send via e-post", "Varsle på e-post",
		"E-postvarsel"}, nil},
	{colInvoiceFee, []string{"Fakturagebyr", "Invoice fee"}, []string{"Gebyr", "Fee"}},
}

// synonyms maps headerKey → column and rank.
var synonyms = func() map[string]synonym {
	m := map[string]synonym{}
	add := func(name, col string, rank int) {
		k := headerKey(name)
		if old, ok := m[k]; ok {
			if old.col != col {
				panic(fmt.Sprintf("mapping: header synonym %q (%s) clashes with %s", name, col, old.col))
			}
			rank = min(rank, old.rank)
		}
		m[k] = synonym{col, rank}
	}
	for _, c := range CanonicalColumns {
		add(c, c, rankExact)
	}
	for _, s := range synonymSpecs {
		if _, ok := columnIndex[s.col]; !ok {
			panic("mapping: synonyms for unknown column " + s.col)
		}
		for _, n := range s.specific {
			add(n, s.col, rankSpecific)
		}
		for _, n := range s.generic {
			add(n, s.col, rankGeneric)
		}
	}
	return m
}()

// headerKey is the form in which header cells are compared: lower case,
// a byte order mark and everything but letters and digits dropped, æ/ø/å
// folded to ae/o/a, and the ASCII spellings "oe" and "aa" to o and a.
func headerKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'æ', 'ä':
			b.WriteString("ae")
		case 'ø', 'ö', 'ó', 'ò', 'ô':
			b.WriteByte('o')
		case 'å', 'à', 'á', 'â':
			b.WriteByte('a')
		case 'é', 'è', 'ê':
			b.WriteByte('e')
		case 'ü', 'ú':
			b.WriteByte('u')
		default:
			if r < 0x80 {
				if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
					b.WriteRune(r)
				}
			} else if unicode.IsLetter(r) || unicode.IsDigit(r) {
				b.WriteRune(r)
			}
		}
	}
	k := b.String()
	if strings.Contains(k, "oe") || strings.Contains(k, "aa") {
		k = strings.NewReplacer("oe", "o", "aa", "a").Replace(k)
	}
	return k
}

// lookupSynonym is the column a header cell names by itself (no profile),
// with its rank; ok is false for a header fpexport does not read.
func lookupSynonym(cell string) (col string, rank int, ok bool) {
	s, ok := synonyms[headerKey(cell)]
	if !ok {
		return "", 0, false
	}
	if strings.Contains(cell, "%") {
		// A percent sign names a percentage: only tax is one, and "MVA %"
		// says so more clearly than a bare "MVA".
		if s.col != colTax {
			return "", 0, false
		}
		return s.col, min(s.rank, rankSpecific), true
	}
	return s.col, s.rank, true
}

const discountPercentHint = "a discount in percent; discount is an amount in NOK off the line's total"

// headerHints explain headers that look like a column but are not read as
// one. Keys are made by headerKey; col is the column the header is mistaken for.
var headerHints = func() map[string]struct{ col, text, id string } {
	m := map[string]struct{ col, text, id string }{}
	add := func(col, text string, names ...string) {
		for _, n := range names {
			m[headerKey(n)] = struct{ col, text, id string }{col, text, hintIDs[text]}
		}
	}
	add(colRate, "a price without VAT; rate is the unit price including VAT: give that column, or map it in a profile only if these prices include VAT",
		"Pris eks. mva", "Pris ekskl. mva", "Pris eksl. mva", "Pris uten mva", "Enhetspris eks. mva", "Enhetspris ekskl. mva",
		"Nettopris", "Netto pris", "Price excl. VAT", "Unit price excl. VAT", "Net price")
	add(colLineTotal, "an amount without VAT; line_total is the line's total including VAT",
		"Beløp eks. mva", "Beløp ekskl. mva", "Beløp uten mva", "Nettobeløp", "Netto", "Sum eks. mva", "Net amount", "Amount excl. VAT")
	add(colTax, "a VAT amount; tax is the VAT rate in percent (0, 12, 15 or 25)",
		"MVA-beløp", "Mva kr", "Mva i kr", "Sum mva", "Mva-sum", "VAT amount", "Tax amount")
	add(colTax, "a VAT code of the accounts; tax is the VAT rate in percent (0, 12, 15 or 25)",
		"Mva-kode", "Mvakode", "Avgiftskode", "VAT code", "Tax code")
	add(colDiscount, discountPercentHint, "Rabattprosent", "Rabatt i prosent", "Rabattsats", "Discount percent", "Discount rate")
	add("", "could be the line's or the order's total: map it in a profile to line_total or order_total",
		"Sum", "Total", "Totalt", "Amount", "Totalsum")
	add("", "which number? map it in a profile (order_ref, product_id, …)", "Nr", "Nummer", "Number", "No", "ID")
	add("", "which reference? map it in a profile to order_ref, reference_no or customer_reference", "Ref", "Ref.")
	add("", "a customer number is not sent to FP; map it in a profile to \"\" to silence this",
		"Kundenummer", "Kundenr", "Kunde-ID", "Customer number", "Customer ID")
	return m
}()

// hintIDs are the catalogue's ids of the hints a missing column's error
// gives (headerMsg).
var hintIDs = map[string]string{
	"a price without VAT; rate is the unit price including VAT: give that column, or map it in a profile only if these prices include VAT": "hint.rate_excl_vat",
	"an amount without VAT; line_total is the line's total including VAT":                                                                  "hint.line_total_excl_vat",
	"a VAT amount; tax is the VAT rate in percent (0, 12, 15 or 25)":                                                                       "hint.tax_amount",
	"a VAT code of the accounts; tax is the VAT rate in percent (0, 12, 15 or 25)":                                                         "hint.tax_code",
	discountPercentHint: "hint.discount_percent",
}

// headerHintMsg is HeaderHint as a message of the catalogue.
func headerHintMsg(cell string) msg.Msg {
	if strings.Contains(cell, "%") {
		if s, ok := synonyms[headerKey(cell)]; ok && s.col != colTax {
			if s.col == colDiscount {
				return msg.New("hint.discount_percent")
			}
			return msg.New("hint.percentage", s.col)
		}
	}
	if h, ok := headerHints[headerKey(cell)]; ok && h.id != "" {
		return msg.New(h.id)
	}
	return msg.New(msg.Text, HeaderHint(cell))
}

// HeaderHint says in plain words why fpexport does not read a header cell
// that looks like one of its columns ("Pris eks. mva": a price without VAT
// …), or "" when it has nothing to say. Callers add it to the list of
// headers not used.
func HeaderHint(cell string) string {
	if strings.Contains(cell, "%") {
		if s, ok := synonyms[headerKey(cell)]; ok && s.col != colTax {
			if s.col == colDiscount {
				return discountPercentHint
			}
			return fmt.Sprintf("a percentage; %s is not a percentage", s.col)
		}
	}
	if h, ok := headerHints[headerKey(cell)]; ok {
		return h.text
	}
	return ""
}

// hintColumn is the column a header cell not read is mistaken for, or "".
func hintColumn(cell string) string {
	if strings.Contains(cell, "%") {
		if s, ok := synonyms[headerKey(cell)]; ok && s.col != colTax {
			return s.col
		}
	}
	return headerHints[headerKey(cell)].col
}
