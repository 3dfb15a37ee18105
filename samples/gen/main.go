//go:build ignore

// Command gen writes the XLSX samples: samples/orders.xlsx, in the
// canonical columns, and samples/faktura-norsk.xlsx, invoices with Norwegian
// headers (read by the built-in synonyms and faktura-norsk.profile.json).
// Run it from the repository root:
//
//	go run samples/gen/main.go [-o samples/orders.xlsx] [-faktura samples/faktura-norsk.xlsx]
//
// The output is deterministic: running it twice gives the same bytes.
// Amounts, quantities, tax rates, phone and organisation numbers are number
// cells and order dates are date cells, as an accountant's sheet holds them;
// zip codes and personal numbers are text so leading zeros survive, except
// the one personal number that shows what happens when they do not.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/xuri/excelize/v2"
)

var header = []string{
	"order_ref", "kind", "customer_type", "customer_name", "email", "country_code", "msisdn",
	"personal_number", "organization_id", "street", "zip", "city", "country", "preferred_language",
	"product_id", "product_name", "quantity", "rate", "discount", "tax", "order_date", "due_date",
	"payment_method", "reference_no", "customer_reference", "send_sms", "send_email", "invoice_fee",
}

// customer holds the order-level columns, repeated on every line of an order.
type customer struct {
	ref, kind, ctype, name, email string
	msisdn                        int
	personalNumber                any // string, or an int to show a lost leading zero
	orgID                         any // int, or nil
	street, zip, city, country    string
	lang                          string
}

// line is one order line; order-level extras ride along.
type line struct {
	productID, productName     string
	quantity, rate             float64
	discount                   any // float64 or nil
	tax                        int
	orderDate                  any // time.Time or nil
	paymentMethod, referenceNo string
	customerReference          string
	sendSMS, sendEmail         string
	invoiceFee                 string
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

var orders = []struct {
	c     customer
	lines []line
}{
	{customer{"XO-2001", "invoice", "corporate", "Tindevegen Regnskap AS", "faktura@tindevegen.example.com", 91234567, nil, 311028057, "Tindevegen 14", "2050", "Jessheim", "NO", "no"}, []line{
		{"REG-01", "Årsoppgjør 2026", 1, 18750.00, nil, 25, day("2026-11-04"), "", "", "Avtale 2026-14", "", "", "true"},
		{"REG-02", "Skattemelding, tillegg", 1, 2500.00, 250.00, 25, day("2026-11-04"), "", "", "Avtale 2026-14", "", "", "true"},
	}},
	// Invalid: the personal number was typed as a number, so Excel dropped
	// its leading zero (05877223436 → 5877223436, 10 digits).
	{customer{"XO-2002", "invoice", "private", "Marius Sæther", "marius.saether@example.net", 94561237, 5877223436, nil, "Fjellveien 3", "2000", "Lillestrøm", "NO", "no"}, []line{
		{"SYK-1", "Sykkelservice", 1, 1290.00, nil, 25, day("2026-11-05"), "", "", "", "", "", "false"},
	}},
	{customer{"XO-2003", "payment-link", "private", "Ingrid Kvæl", "ingrid.kvael@example.org", 48123456, "03848110123", nil, "Løkkeveien 11", "4008", "Stavanger", "NO", "en"}, []line{
		{"FOTO-1", "Portrettfotografering", 1, 3200.00, nil, 25, nil, "", "PL-XO-2003", "Fotografering november", "false", "true", ""},
	}},
	{customer{"XO-2004", "payment-link", "corporate", "Fjordglimt Kaffebar AS", "post@fjordglimt.example.com", 93812345, nil, 311193066, "Strandkaien 2", "5013", "Bergen", "NO", "no"}, []line{
		{"KAFFE-5", "Kaffebønner, 5 kg", 2, 899.00, nil, 15, nil, "", "PL-XO-2004", "", "false", "true", ""},
		{"KVERN-1", "Kaffekvern, service", 1, 1450.00, 150.00, 25, nil, "", "PL-XO-2004", "", "false", "true", ""},
	}},
	{customer{"XO-2005", "hosted-checkout", "private", "Nora Fjærli", "nora.fjaerli@example.com", 41987654, nil, nil, "", "", "", "", "en"}, []line{
		{"FLYBUSS", "Flybuss, tur/retur", 1, 339.00, nil, 12, nil, "", "", "", "", "", ""},
	}},
	{customer{"XO-2006", "hosted-checkout", "corporate", "Vesterålen Reiseliv AS", "booking@vesteralen.example.net", 92233445, nil, 311254073, "Storgata 1", "8400", "Sortland", "NO", "no"}, []line{
		{"HVAL-1", "Hvalsafari", 4, 1150.00, nil, 12, nil, "", "", "", "", "", ""},
	}},
	{customer{"XO-2007", "checkout", "private", "Sander Løkken", "sander.lokken@example.org", 97766554, nil, nil, "Kirkegata 2", "3616", "Kongsberg", "NO", "no"}, []line{
		{"SKI-1", "Skiservice", 1, 449.00, nil, 25, nil, "applepay", "", "Nettbutikk 20311", "", "", ""},
		{"VOKS-1", "Skismøring", 2, 129.00, nil, 25, nil, "applepay", "", "Nettbutikk 20311", "", "", ""},
	}},
	// Invalid: a checkout without payment_method.
	{customer{"XO-2008", "checkout", "corporate", "Nordlys Bakeri AS", "ordre@nordlys.example.org", 95123456, nil, 310684023, "Sjøgata 3", "8006", "Bodø", "NO", "no"}, []line{
		{"MEL-25", "Hvetemel, 25 kg", 4, 389.00, nil, 15, nil, "", "", "Bestilling 7781", "", "", ""},
	}},
}

func main() {
	out := flag.String("o", "samples/orders.xlsx", "output file: the canonical sample")
	faktura := flag.String("faktura", "samples/faktura-norsk.xlsx", "output file: the Norwegian invoice sample")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := runFaktura(*faktura); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "orders"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("yyyy-mm-dd")})
	if err != nil {
		return err
	}
	money, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := sw.SetColWidth(1, len(header), 16); err != nil {
		return err
	}
	row := make([]any, len(header))
	for i, h := range header {
		row[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", row); err != nil {
		return err
	}
	n := 1
	for _, o := range orders {
		c := o.c
		for _, l := range o.lines {
			n++
			v := map[string]any{
				"order_ref": c.ref, "kind": c.kind, "customer_type": c.ctype, "customer_name": c.name,
				"email": c.email, "country_code": "+47", "msisdn": c.msisdn,
				"personal_number": c.personalNumber, "organization_id": c.orgID,
				"street": c.street, "zip": c.zip, "city": c.city, "country": c.country, "preferred_language": c.lang,
				"product_id": l.productID, "product_name": l.productName,
				"quantity": l.quantity, "rate": excelize.Cell{StyleID: money, Value: l.rate}, "tax": l.tax,
				"payment_method": l.paymentMethod, "reference_no": l.referenceNo, "customer_reference": l.customerReference,
				"send_sms": l.sendSMS, "send_email": l.sendEmail, "invoice_fee": l.invoiceFee,
			}
			if l.discount != nil {
				v["discount"] = excelize.Cell{StyleID: money, Value: l.discount}
			}
			if l.orderDate != nil {
				v["order_date"] = excelize.Cell{StyleID: date, Value: l.orderDate}
			}
			for i, h := range header {
				row[i] = v[h]
				if s, ok := row[i].(string); ok && s == "" {
					row[i] = nil // leave the cell out
				}
			}
			cell, err := excelize.CoordinatesToCellName(1, n)
			if err != nil {
				return err
			}
			if err := sw.SetRow(cell, row); err != nil {
				return err
			}
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.SaveAs(out)
}

func ptr[T any](v T) *T { return &v }

// fakturaHeader is how a Norwegian accountant's invoice sheet names the
// columns: every name is a built-in synonym (see samples/README.md). There is
// no kind column: faktura-norsk.profile.json fixes kind to invoice.
var fakturaHeader = []string{
	"Ordrenummer", "Fakturadato", "Forfallsdato", "Kundetype", "Kundenavn", "Fødselsnummer",
	"Organisasjonsnummer", "E-post", "Landkode", "Mobil", "Gateadresse", "Postnr", "Poststed", "Land",
	"Varenr", "Varetekst", "Antall", "Enhetspris", "Rabatt", "MVA", "Beløp", "Fakturabeløp",
	"Deres referanse", "Fakturagebyr",
}

// fakturaLine is one line of an invoice; fakturaOrder the invoice.
type fakturaLine struct {
	varenr, tekst string
	antall, pris  float64
	rabatt        any // float64 or nil
	mva           int
	belop         float64 // the line's total, VAT included
}

type fakturaOrder struct {
	ref             string
	dato, forfall   any // time.Time or nil
	kundetype, navn string
	fnr             string
	orgnr           any // int or nil
	epost           string
	mobil           int
	adresse, postnr string
	poststed        string
	deresRef, gebyr string
	lines           []fakturaLine
}

var fakturaOrders = []fakturaOrder{
	{"FA-5001", day("2026-11-02"), day("2026-11-30"), "Bedrift", "Hagebyen Barnehage SA", "", 312400677,
		"styrer@hagebyen.example.org", 40011223, "Hagebyveien 3", "3050", "Mjøndalen", "Uteområde 2026", "", []fakturaLine{
			{"LEK-10", "Sandkasse med lokk", 1, 7490.00, nil, 25, 7490.00},
			{"MONT", "Montering, time", 3, 890.00, 270.00, 25, 2400.00},
		}},
	{"FA-5002", day("2026-11-05"), day("2026-11-19"), "Privat", "Sunniva Brække", "07819323431", nil,
		"sunniva.braekke@example.com", 91827364, "Bakkeveien 12", "2317", "Hamar", "", "nei", []fakturaLine{
			{"PIANO-N", "Pianotimer, november", 4, 520.00, nil, 0, 2080.00},
		}},
	// Invalid: the organisation number has two digits swapped (311028057
	// typed as 311028075), so its control digit does not match.
	{"FA-5003", day("2026-11-06"), day("2026-11-20"), "Bedrift", "Østlandet Regnskap AS", "", 311028075,
		"post@ostlandet-regnskap.example.net", 92736451, "Storgata 88", "3611", "Kongsberg", "Avtale 88-2026", "", []fakturaLine{
			{"REGN-T", "Regnskapsbistand, time", 10, 1150.00, nil, 25, 11500.00},
		}},
	// No due date: the profile's default (14 days after the invoice date).
	{"FA-5004", day("2026-11-10"), nil, "Privat", "Åge Thorsæter", "25847023476", nil,
		"age.thorsaeter@example.net", 98877665, "Fjordgata 18", "7010", "Trondheim", "", "ja", []fakturaLine{
			{"VASK-1", "Vindusvask, enebolig", 1, 1850.00, nil, 25, 1850.00},
			{"RENNE", "Rens av takrenner", 1, 950.00, 95.00, 25, 855.00},
		}},
	{"FA-5005", day("2026-11-12"), day("2026-12-12"), "Bedrift", "Mølla Bakeri AS", "", 312610787,
		"innkjop@molla.example.com", 47766554, "Møllevegen 1", "2611", "Lillehammer", "Bestilling 4410", "", []fakturaLine{
			{"MEL-25", "Hvetemel, 25 kg", 8, 389.00, nil, 15, 3112.00},
			{"GJAER", "Gjær, 500 g", 10, 24.90, nil, 15, 249.00},
		}},
}

func runFaktura(out string) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Fakturaer"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("dd.mm.yyyy")})
	if err != nil {
		return err
	}
	money, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := sw.SetColWidth(1, len(fakturaHeader), 16); err != nil {
		return err
	}
	row := make([]any, len(fakturaHeader))
	for i, h := range fakturaHeader {
		row[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", row); err != nil {
		return err
	}
	n := 1
	for _, o := range fakturaOrders {
		var total float64
		for _, l := range o.lines {
			total += l.belop
		}
		for _, l := range o.lines {
			n++
			v := map[string]any{
				"Ordrenummer": o.ref, "Kundetype": o.kundetype, "Kundenavn": o.navn, "Fødselsnummer": o.fnr,
				"Organisasjonsnummer": o.orgnr, "E-post": o.epost, "Landkode": 47, "Mobil": o.mobil,
				"Gateadresse": o.adresse, "Postnr": o.postnr, "Poststed": o.poststed, "Land": "NO",
				"Varenr": l.varenr, "Varetekst": l.tekst, "Antall": l.antall,
				"Enhetspris": excelize.Cell{StyleID: money, Value: l.pris}, "MVA": l.mva,
				"Beløp":           excelize.Cell{StyleID: money, Value: l.belop},
				"Fakturabeløp":    excelize.Cell{StyleID: money, Value: total},
				"Deres referanse": o.deresRef, "Fakturagebyr": o.gebyr,
			}
			if l.rabatt != nil {
				v["Rabatt"] = excelize.Cell{StyleID: money, Value: l.rabatt}
			}
			if o.dato != nil {
				v["Fakturadato"] = excelize.Cell{StyleID: date, Value: o.dato}
			}
			if o.forfall != nil {
				v["Forfallsdato"] = excelize.Cell{StyleID: date, Value: o.forfall}
			}
			for i, h := range fakturaHeader {
				row[i] = v[h]
				if s, ok := row[i].(string); ok && s == "" {
					row[i] = nil // leave the cell out
				}
			}
			cell, err := excelize.CoordinatesToCellName(1, n)
			if err != nil {
				return err
			}
			if err := sw.SetRow(cell, row); err != nil {
				return err
			}
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.SaveAs(out)
}
