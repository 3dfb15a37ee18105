// Package mapping is fpexport's pure core: it turns spreadsheet lines into
// validated orders and validated orders into Front Payment (FP) request
// bodies. It does no I/O: no context, no database, no HTTP, no clock except
// the one the caller passes in.
//
// It is one step of an import, which flows
//
//	file (CSV, XLSX) or ERP rows    importers: header and rows, streamed
//	  → intake.Open / FromSheet     MapHeaderProfile: header cells, profile → HeaderMap
//	  → intake (engine.go)          groups each order's lines (HeaderMap.Ref, order_ref)
//	      OrderBuilder.Build        one order's []Line → Order, or its RowErrors
//	  → intake.Commit, store        one transaction: batch, orders, rejected rows, submit jobs
//	  → the submit job (jobs)       BuildPayload: Order + callback URLs → FP request body
//
// ParseProfile reads a profile's JSON (*Profile, optional). This package
// does the mapping and validation steps only: reading files is importers',
// grouping lines into orders and recording them is intake's.
//
// # Headers and profiles
//
// Headers are matched by their canonical names and by built-in Norwegian
// and English synonyms ("Ordrenummer", "Kundenavn", "E-post", "Mobil",
// "Fødselsnummer", "Beløp" …; synonyms.go), ignoring case, spacing,
// punctuation and the æøå spelling. A header that could mean two columns is
// not guessed: "Beløp" is the line total (line_total, checked), never the
// unit price; "Rabatt %" is not the discount amount; a more specific header
// ("Mobil") wins over a generic one ("Telefon"). Headers not used are
// returned to the caller to list. A profile (profile.go) maps a sender's
// own headers, fixes values for every row and gives defaults per kind; a
// required column missing from the file fails the file before any row is
// read unless the profile supplies it.
//
// # Checks beyond FP's
//
// Personal numbers have both mod-11 control digits and the date of birth
// checked (D- and H-numbers accepted; Skatteetaten's synthetic test numbers
// only with Options.AllowSyntheticPersonalNumbers); organisation numbers
// their mod-11 control digit (ids.go). The sheet's own figures, line_total
// and order_total, must equal the computed ones to the øre.
//
// # Rules
//
// FP's published API documents are the contract (docs/fp-contract.md).
// Where they disagree with each other, the code says which reading it takes
// and why, in a comment beside the rule. The stricter reading wins whenever FP might
// otherwise reject an order that we already accepted.
//
// Every problem found in a row becomes a RowError naming the file, the row as
// the user sees it in Excel, the column, the value and a plain reason, so
// that an accountant can fix the file and import it again. An order with an
// error on any of its rows is rejected whole: nothing is half-imported.
//
// # Money
//
// Amounts are integer øre (fpclient.Amount), quantities integer thousandths
// (fpclient.Quantity); no float is ever involved. Rates are tax-inclusive.
// Per line: gross = round(quantity × rate), net = round(gross × 100 /
// (100 + tax)) half-up, tax = gross − net, amount = gross − discount. The
// order summary sums the lines, so subTotal + totalTax − totalDiscount =
// grandTotal always holds to the øre.
//
// # Dates
//
// Dates are calendar dates in Europe/Oslo. An Order keeps the dates as the
// user wrote them (YYYY-MM-DD, or "" when left empty); defaults that depend on
// the day (an empty order date is "the day it is sent", an empty due date is
// "order date + 14 days") are applied by BuildPayload at submit time, so that
// the same file imported on two days gives the same Order and the same
// Fingerprint. due_days (a payment term) becomes a due date at import when
// the order has a date, and stays a number of days (Order.DueDays) when the
// order is dated the day it is sent. Excel serial dates follow the
// workbook's date system (Options.Date1904).
package mapping
