package report

// The report speaks Norwegian bokmål unless asked for English (Report.Lang
// "en"): the labels, headers and sheet names, and the names of statuses,
// kinds, status groups and exception types in the XLSX and CSV. JSON keeps
// the codes (keys and values are for programs) and adds nothing else.

// isEnglish says whether lang asks for English.
func isEnglish(lang string) bool { return lang == "en" }

// Langs are the report's languages; "" means the first.
var Langs = []string{"nb", "en"}

// label is the text of key in lang; an unknown key is itself (a test holds
// every key to both languages).
func label(lang, key string) string {
	t, ok := labels[key]
	if !ok {
		return key
	}
	if isEnglish(lang) {
		return t[1]
	}
	return t[0]
}

// Name is how the XLSX and CSV show a code (status, kind or exception
// type) in lang: the code itself when it has no name (a status
// FP sent that we do not know, say).
func Name(lang, code string) string {
	if code == "" {
		return ""
	}
	t, ok := names[code]
	if !ok {
		return code
	}
	if isEnglish(lang) {
		return t[1]
	}
	return t[0]
}

// names are the codes' names: bokmål, English. Statuses and exception
// types share a code where they mean the same (failed, needs_review, …).
var names = map[string][2]string{
	// statuses
	"queued":             {"i kø", "queued"},
	"submitting":         {"sendes til FP", "submitting"},
	"submitted":          {"levert til FP", "submitted to FP"},
	"sent":               {"sendt til kunde", "sent to customer"},
	"reserved":           {"beløp reservert", "amount reserved"},
	"paid":               {"betalt", "paid"},
	"partially_refunded": {"delvis refundert", "partially refunded"},
	"refunded":           {"refundert", "refunded"},
	"cancelled":          {"kansellert", "cancelled"},
	"cancel_requested":   {"kansellering bedt om", "cancellation requested"},
	"withdrawn":          {"trukket tilbake", "withdrawn"},
	"expired":            {"utløpt", "expired"},
	"failed":             {"feilet", "failed"},
	"payment_failed":     {"betaling feilet", "payment failed"},
	"provider_rejected":  {"avvist av FP", "rejected by FP"},
	"invalid_payload":    {"ugyldige ordredata", "invalid order data"},
	"needs_review":       {"må kontrolleres", "needs review"},
	// kinds
	"invoice":         {"faktura", "invoice"},
	"payment-link":    {"betalingslenke", "payment link"},
	"hosted-checkout": {"betalingsside", "hosted checkout"},
	"checkout":        {"kasse", "checkout"},
	// exception types besides the statuses above
	ExceptionRejectedRow:        {"avvist rad", "rejected row"},
	"possible_duplicate":        {"mulig duplikat hos FP", "possible duplicate at FP"},
	ExceptionUntrustedCallback:  {"uklarert varsel fra FP", "untrusted callback"},
	ExceptionOrphanCallback:     {"varsel for ukjent ordre", "callback for unknown order"},
	ExceptionPaymentLinkOverdue: {"betalingslenke forfalt", "payment link overdue"},
	ExceptionNoCallback:         {"ikke hørt fra FP", "no word from FP"},
}

// GroupName is a status group as the XLSX and CSV show it in lang.
func GroupName(lang, group string) string {
	t, ok := groupNames[group]
	if !ok {
		return group
	}
	if isEnglish(lang) {
		return t[1]
	}
	return t[0]
}

var groupNames = map[string][2]string{
	GroupOpen:      {"ikke sendt ennå", "not yet sent"},
	GroupSent:      {"sendt, ikke betalt", "sent, not paid"},
	GroupPaid:      {"betalt", "paid"},
	GroupClosed:    {"avsluttet uten betaling", "closed without payment"},
	GroupAttention: {"trenger oppfølging", "needs attention"},
}

// labels are the report's fixed texts: bokmål, English.
var labels = map[string][2]string{
	// sheets (and CSV part names stay English codes: see Parts)
	"sheet.summary":    {"Sammendrag", "Summary"},
	"sheet.orders":     {"Ordrer", "Orders"},
	"sheet.vat":        {"MVA", "VAT"},
	"sheet.exceptions": {"Avvik", "Exceptions"},
	"sheet.batches":    {"Filer", "Batches"},

	// columns
	"col.batch":           {"Fil-ID", "Batch"},
	"col.file":            {"Fil", "File"},
	"col.row":             {"Rad", "Row"},
	"col.order_ref":       {"Ordrereferanse", "Order ref"},
	"col.kind":            {"Type", "Kind"},
	"col.customer":        {"Kunde", "Customer"},
	"col.personal_number": {"Fødselsnummer", "Personal number"},
	"col.order_date":      {"Ordredato", "Order date"},
	"col.due_date":        {"Forfallsdato", "Due date"},
	"col.net":             {"Netto (NOK)", "Net (NOK)"},
	"col.vat":             {"MVA (NOK)", "VAT (NOK)"},
	"col.discount":        {"Rabatt (NOK)", "Discount (NOK)"},
	"col.grand_total":     {"Totalbeløp (NOK)", "Grand total (NOK)"},
	"col.paid_amount":     {"Betalt beløp (NOK)", "Paid amount (NOK)"},
	"col.paid_at":         {"Betalt", "Paid at"},
	"col.refunded_amount": {"Refundert beløp (NOK)", "Refunded amount (NOK)"},
	"col.fp_order":        {"FP-ordre", "FP order"},
	"col.status":          {"Status", "Status"},
	"col.fp_status":       {"FPs status", "FP status"},
	"col.status_at":       {"Status endret", "Status at"},
	"col.imported_at":     {"Importert", "Imported at"},
	"col.submitted_at":    {"Sendt til FP", "Submitted at"},
	"col.attempts":        {"Forsøk", "Attempts"},
	"col.last_error":      {"Siste feil", "Last error"},
	"col.exception":       {"Avvik", "Exception"},
	"col.payment_url":     {"Betalingslenke", "Payment URL"},
	"col.type":            {"Avvikstype", "Type"},
	"col.detail":          {"Detaljer", "Detail"},
	"col.sha256":          {"SHA-256", "SHA-256"},
	"col.rows":            {"Rader", "Rows"},
	"col.orders":          {"Ordrer", "Orders"},
	"col.rejected":        {"Avviste rader", "Rejected rows"},
	"col.submitted":       {"Sendt til FP", "Submitted"},
	"col.paid":            {"Betalt", "Paid"},
	"col.total":           {"Sum (NOK)", "Total (NOK)"},
	"col.rate":            {"MVA-sats (%)", "VAT rate (%)"},
	"col.lines":           {"Ordrelinjer", "Lines"},
	"col.gross":           {"Brutto (NOK)", "Gross (NOK)"},
	"col.group":           {"Gruppe", "Group"},
	"col.section":         {"Del", "Part"},
	"col.name":            {"Navn", "Name"},
	"col.count":           {"Antall", "Count"},
	"col.group_or_status": {"Gruppe eller status", "Group or status"},

	// summary
	"title":           {"Avstemmingsrapport", "Reconciliation report"},
	"period":          {"Periode", "Period"},
	"period.note":     {"(Europe/Oslo, begge dager med)", "(Europe/Oslo, inclusive)"},
	"generated":       {"Laget", "Generated at"},
	"subtotal":        {"Delsum", "Subtotal"},
	"total":           {"Sum", "Total"},
	"imported":        {"Importert i perioden (filene)", "Imported in the period (batches)"},
	"difference":      {"Differanse", "Difference"},
	"rejected_rows":   {"Avviste rader", "Rejected rows"},
	"rejected_errors": {"Feil i avviste rader", "Errors in rejected rows"},
	"exceptions":      {"Avvik", "Exceptions"},
	"vat.other":       {"annen sats", "other rate"},
	"vat.orders":      {"Ordrenes totalbeløp", "The orders' grand totals"},

	// summary sections (the summary CSV's first column)
	"section.status":     {"status", "status"},
	"section.group":      {"gruppe", "group"},
	"section.kind":       {"type og status", "kind and status"},
	"section.total":      {"sum", "total"},
	"section.imported":   {"importert", "imported"},
	"section.difference": {"differanse", "difference"},
	"section.vat":        {"mva", "vat"},
	"section.rejected":   {"avviste rader", "rejected rows"},
	"section.errors":     {"feil i avviste rader", "errors in rejected rows"},
	"section.exception":  {"avvik", "exception"},

	// exception details
	"detail.column": {"kolonne %q: %s (verdi %q)", "column %q: %s (value %q)"},
	"detail.value":  {"%s (verdi %q)", "%s (value %q)"},
}
