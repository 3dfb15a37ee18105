package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/frontpayment/fpexport/internal/msg"
)

// The page's languages: Norwegian (bokmål) and English. Every label is in
// one map per language; a key missing in one is caught by a test.
var labels = map[string]map[string]string{
	"no": {
		"app":                       "fpexport – ordre til Front Payment",
		"nav.batches":               "Importer",
		"nav.upload":                "Last opp fil",
		"nav.reports":               "Avstemming",
		"nav.logout":                "Logg ut",
		"nav.signed_in":             "Innlogget som",
		"login.title":               "Logg inn",
		"login.user":                "Brukernavn",
		"login.password":            "Passord",
		"login.submit":              "Logg inn",
		"login.failed":              "Feil brukernavn eller passord.",
		"login.locked":              "For mange mislykkede innlogginger. Vent %s og prøv igjen.",
		"login.busy":                "Innloggingen er opptatt akkurat nå. Vent %s og prøv igjen.",
		"login.seconds":             "%d sekunder",
		"login.minutes":             "%d minutter",
		"upload.title":              "Last opp en ordrefil",
		"upload.intro":              "Velg en CSV- eller XLSX-fil. Du ser først en prøvekjøring: ingenting sendes før du bekrefter.",
		"upload.file":               "Fil (CSV eller XLSX, høyst %s)",
		"upload.kind":               "Type for rader uten type",
		"upload.kind_file":          "Fra filens kolonne «kind»",
		"upload.profile":            "Kolonneprofil",
		"upload.profile_no":         "Standard kolonnenavn (ingen profil)",
		"upload.submit":             "Prøvekjør",
		"upload.too_large":          "Filen er for stor: høyst %s.",
		"upload.no_file":            "Velg en fil.",
		"upload.bad_type":           "Bare .csv- og .xlsx-filer kan leses.",
		"upload.strict":             "Streng: avvis også ordrer med advarsler (verdier ordretypen ikke bruker, reparerte verdier)",
		"dry.warnings":              "Advarsler",
		"dry.warnings_help":         "Disse ordrene sendes, men uten verdiene som er nevnt, eller med verdien som er rettet.",
		"dry.title":                 "Prøvekjøring",
		"dry.nothing":               "Prøvekjøring: ingenting er lagret eller sendt ennå.",
		"dry.file":                  "Fil",
		"dry.rows":                  "Rader",
		"dry.orders":                "Gyldige ordrer",
		"dry.rejected":              "Avviste rader",
		"dry.ignored":               "Kolonner som ikke brukes",
		"dry.kind":                  "Type",
		"dry.total":                 "Sum NOK",
		"dry.confirm":               "Bekreft og legg i kø",
		"dry.confirm_help":          "De gyldige ordrene sendes til Front Payment. Avviste rader sendes ikke: rett dem i feilfilen og last den opp igjen.",
		"dry.no_orders":             "Ingen gyldige ordrer: ingenting å legge i kø.",
		"dry.duplicate":             "Akkurat denne filen er importert før (import %d); en bekreftelse importerer ingenting på nytt.",
		"dry.errors_file":           "Last ned feilfilen",
		"dry.failed":                "Filen kan ikke leses",
		"dry.again":                 "Last opp en annen fil",
		"dry.more":                  "… og %d rader til (alle står i feilfilen).",
		"batches.title":             "Importer",
		"batches.none":              "Ingen importer ennå.",
		"batches.refresh":           "Siden oppdateres hvert %d. sekund.",
		"batch.title":               "Import %d",
		"batch.id":                  "Import",
		"batch.file":                "Fil",
		"batch.imported":            "Importert",
		"batch.rows":                "Rader",
		"batch.new":                 "Nye",
		"batch.changed":             "Endrede",
		"batch.unchanged":           "Uendrede",
		"batch.orders":              "Ordrer",
		"batch.total":               "Sum NOK",
		"batch.status":              "Status",
		"batch.rejected":            "Avviste rader",
		"batch.rejected_open":       "Avviste rader ikke rettet",
		"batch.resolved":            "rettet i import %d",
		"batch.errors_file":         "Last ned feilfilen",
		"batch.report":              "Avstemmingsrapport for importdagen",
		"batch.duplicate":           "Filen var importert før, som denne importen; ingenting ble importert på nytt.",
		"batch.imported_ok":         "Importert. Ordrene sendes til Front Payment nå.",
		"batch.more_orders":         "Viser de første %d ordrene.",
		"batch.no_orders":           "Ingen ordrer i denne importen.",
		"col.row":                   "Rad",
		"col.column":                "Kolonne",
		"col.value":                 "Verdi",
		"col.reason":                "Årsak",
		"col.order_ref":             "Ordre",
		"col.kind":                  "Type",
		"col.customer":              "Kunde",
		"col.amount":                "Beløp NOK",
		"col.status":                "Status",
		"col.fp_order":              "FP-ordre",
		"col.payment_link":          "Betalingslenke",
		"col.last_error":            "Siste feil",
		"col.attempts":              "Forsøk",
		"link.open":                 "åpne",
		"reports.title":             "Avstemmingsrapport",
		"reports.intro":             "Ordrer hører til dagen de ble importert, med siste status. Datoer i norsk tid.",
		"reports.from":              "Fra dato",
		"reports.to":                "Til dato",
		"reports.format":            "Format",
		"reports.part":              "Del (CSV)",
		"reports.part.all":          "Ordrer (XLSX og JSON: alle delene)",
		"reports.download":          "Last ned",
		"error.title":               "Noe gikk galt",
		"error.not_found":           "Finnes ikke.",
		"error.internal":            "En feil oppstod; prøv igjen. Feilen er logget.",
		"error.csrf":                "Skjemaet er utløpt eller kom ikke fra denne siden. Last siden på nytt og prøv igjen.",
		"error.bad_input":           "Ugyldig valg: %s.",
		"kind.invoice":              "Faktura",
		"kind.payment-link":         "Betalingslenke",
		"kind.hosted-checkout":      "Hosted checkout",
		"kind.checkout":             "Checkout",
		"status.queued":             "I kø",
		"status.submitting":         "Sendes",
		"status.submitted":          "Sendt til FP",
		"status.sent":               "Sendt til kunden",
		"status.reserved":           "Reservert",
		"status.payment_failed":     "Betaling feilet",
		"status.paid":               "Betalt",
		"status.partially_refunded": "Delvis refundert",
		"status.refunded":           "Refundert",
		"status.cancelled":          "Kansellert",
		"status.cancel_requested":   "Kansellering bedt om",
		"status.withdrawn":          "Trukket tilbake",
		"status.expired":            "Utløpt",
		"status.needs_review":       "Må sjekkes",
		"status.provider_rejected":  "Avvist av FP",
		"status.invalid_payload":    "Ikke sendt: feil i ordren",
		"status.failed":             "Feilet",
	},
	"en": {
		"app":                       "fpexport – orders to Front Payment",
		"nav.batches":               "Imports",
		"nav.upload":                "Upload a file",
		"nav.reports":               "Reconciliation",
		"nav.logout":                "Log out",
		"nav.signed_in":             "Signed in as",
		"login.title":               "Log in",
		"login.user":                "User name",
		"login.password":            "Password",
		"login.submit":              "Log in",
		"login.failed":              "Wrong user name or password.",
		"login.locked":              "Too many failed logins. Wait %s and try again.",
		"login.busy":                "Logging in is busy right now. Wait %s and try again.",
		"login.seconds":             "%d seconds",
		"login.minutes":             "%d minutes",
		"upload.title":              "Upload an order file",
		"upload.intro":              "Choose a CSV or XLSX file. You see a dry run first: nothing is sent until you confirm.",
		"upload.file":               "File (CSV or XLSX, at most %s)",
		"upload.kind":               "Kind of rows that name none",
		"upload.kind_file":          "From the file's column “kind”",
		"upload.profile":            "Column profile",
		"upload.profile_no":         "Standard column names (no profile)",
		"upload.submit":             "Dry run",
		"upload.too_large":          "The file is too large: at most %s.",
		"upload.no_file":            "Choose a file.",
		"upload.bad_type":           "Only .csv and .xlsx files can be read.",
		"upload.strict":             "Strict: also refuse orders with warnings (values the order's kind does not use, repaired values)",
		"dry.warnings":              "Warnings",
		"dry.warnings_help":         "These orders are sent, but without the values named, or with the value repaired.",
		"dry.title":                 "Dry run",
		"dry.nothing":               "Dry run: nothing has been stored or sent yet.",
		"dry.file":                  "File",
		"dry.rows":                  "Rows",
		"dry.orders":                "Valid orders",
		"dry.rejected":              "Rejected rows",
		"dry.ignored":               "Columns not used",
		"dry.kind":                  "Kind",
		"dry.total":                 "Total NOK",
		"dry.confirm":               "Confirm and enqueue",
		"dry.confirm_help":          "The valid orders are sent to Front Payment. Rejected rows are not: fix them in the error file and upload it again.",
		"dry.no_orders":             "No valid orders: nothing to enqueue.",
		"dry.duplicate":             "These exact bytes were imported before (import %d); confirming imports nothing again.",
		"dry.errors_file":           "Download the error file",
		"dry.failed":                "The file cannot be read",
		"dry.again":                 "Upload another file",
		"dry.more":                  "… and %d more rows (the error file has them all).",
		"batches.title":             "Imports",
		"batches.none":              "No imports yet.",
		"batches.refresh":           "This page refreshes every %d seconds.",
		"batch.title":               "Import %d",
		"batch.id":                  "Import",
		"batch.file":                "File",
		"batch.imported":            "Imported",
		"batch.rows":                "Rows",
		"batch.new":                 "New",
		"batch.changed":             "Changed",
		"batch.unchanged":           "Unchanged",
		"batch.orders":              "Orders",
		"batch.total":               "Total NOK",
		"batch.status":              "Status",
		"batch.rejected":            "Rejected rows",
		"batch.rejected_open":       "Rejected rows not fixed",
		"batch.resolved":            "fixed in import %d",
		"batch.errors_file":         "Download the error file",
		"batch.report":              "Reconciliation report for the import day",
		"batch.duplicate":           "The file had been imported before, as this import; nothing was imported again.",
		"batch.imported_ok":         "Imported. The orders are being sent to Front Payment.",
		"batch.more_orders":         "Showing the first %d orders.",
		"batch.no_orders":           "No orders in this import.",
		"col.row":                   "Row",
		"col.column":                "Column",
		"col.value":                 "Value",
		"col.reason":                "Reason",
		"col.order_ref":             "Order",
		"col.kind":                  "Kind",
		"col.customer":              "Customer",
		"col.amount":                "Amount NOK",
		"col.status":                "Status",
		"col.fp_order":              "FP order",
		"col.payment_link":          "Payment link",
		"col.last_error":            "Last error",
		"col.attempts":              "Attempts",
		"link.open":                 "open",
		"reports.title":             "Reconciliation report",
		"reports.intro":             "Orders belong to the day they were imported, with their latest status. Dates in Norwegian time.",
		"reports.from":              "From date",
		"reports.to":                "To date",
		"reports.format":            "Format",
		"reports.part":              "Part (CSV)",
		"reports.part.all":          "Orders (XLSX and JSON: every part)",
		"reports.download":          "Download",
		"error.title":               "Something went wrong",
		"error.not_found":           "Not found.",
		"error.internal":            "An error occurred; try again. It has been logged.",
		"error.csrf":                "The form is out of date or did not come from this page. Reload the page and try again.",
		"error.bad_input":           "Invalid choice: %s.",
		"kind.invoice":              "Invoice",
		"kind.payment-link":         "Payment link",
		"kind.hosted-checkout":      "Hosted checkout",
		"kind.checkout":             "Checkout",
		"status.queued":             "Queued",
		"status.submitting":         "Submitting",
		"status.submitted":          "Submitted to FP",
		"status.sent":               "Sent to customer",
		"status.reserved":           "Reserved",
		"status.payment_failed":     "Payment failed",
		"status.paid":               "Paid",
		"status.partially_refunded": "Partially refunded",
		"status.refunded":           "Refunded",
		"status.cancelled":          "Cancelled",
		"status.cancel_requested":   "Cancellation requested",
		"status.withdrawn":          "Withdrawn",
		"status.expired":            "Expired",
		"status.needs_review":       "Needs review",
		"status.provider_rejected":  "Rejected by FP",
		"status.invalid_payload":    "Not sent: order invalid",
		"status.failed":             "Failed",
	},
}

// msgLang is the message catalogue's language for the page's language.
func msgLang(lang string) msg.Lang {
	if lang == "en" {
		return msg.EN
	}
	return msg.NB
}

// label returns the label for key in lang; an unknown key shows as itself,
// which a test catches.
func label(lang, key string) string {
	if s, ok := labels[lang][key]; ok {
		return s
	}
	return key
}

// language picks the page's language: ?lang=no|en (remembered in a
// cookie), else the cookie, else the browser's Accept-Language, else
// Norwegian.
func (h *Handler) language(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); labels[l] != nil {
		h.setCookie(w, r, langCookie, l, 365*24*time.Hour)
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && labels[c.Value] != nil {
		return c.Value
	}
	return fromAcceptLanguage(r.Header.Get("Accept-Language"))
}

// fromAcceptLanguage takes the first of the browser's languages we have
// (nb, nn and no are all Norwegian); without one, Norwegian.
func fromAcceptLanguage(header string) string {
	for _, part := range strings.Split(header, ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		switch primary {
		case "nb", "nn", "no":
			return "no"
		case "en":
			return "en"
		}
	}
	return "no"
}
