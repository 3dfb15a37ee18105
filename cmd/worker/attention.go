package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/operator"
)

const attentionUsage = `usage:
  worker attention [--format text|json] [--limit N] [--lang nb|en]
      every open item: orders waiting for a person, refused or failed, payment links past due,
      possible duplicates, orders FP has said nothing about for STALE_AFTER, rejected rows,
      untrusted and orphan callbacks; each with its reason, age, order and the actions that fit
  worker orders --search TEXT [--format text|json] [--limit N] [--lang nb|en]
      orders whose reference, customer name or e-mail contains TEXT, or whose FP order id,
      id or batch is TEXT
  worker order ORDER [--format text|json] [--lang nb|en]
      one order, its lines and totals, payment link and whole history

ORDER is the order id, kind:order_ref, or an order_ref only one order has.
`

// words are the labels the operator's lists print, in bokmål by default.
var words = map[string][2]string{
	"attention":            {"Trenger oppfølging: %d saker", "Needs attention: %d items"},
	"none":                 {"Ingenting trenger oppfølging.", "Nothing needs attention."},
	"shown":                {"(viser de %d eldste)", "(showing the %d oldest)"},
	"needs_review":         {"Usikkert om FP har ordren", "Unsure whether FP has the order"},
	"possible_duplicate":   {"Mulig duplikat hos FP", "Possible duplicate at FP"},
	"failed":               {"Feilet", "Failed"},
	"provider_rejected":    {"Avvist av FP", "Refused by FP"},
	"invalid_payload":      {"Kunne ikke sendes (ugyldige data)", "Could not be sent (invalid data)"},
	"action_unanswered":    {"Kansellering eller ny utsending uten svar fra FP", "Cancel or resend unanswered by FP"},
	"payment_link_overdue": {"Betalingslenke forfalt", "Payment link past due"},
	"no_word_from_fp":      {"Ikke hørt fra FP på %s", "No word from FP for %s"},
	"rejected_rows":        {"Avviste rader", "Rejected rows"},
	"orphan_callback":      {"Varsel fra FP om ukjent ordre", "FP callback for an unknown order"},
	"untrusted_callbacks":  {"Varsler som ikke kunne godkjennes", "Callbacks that could not be trusted"},
	"hdr_order":            {"ORDRE", "ORDER"},
	"hdr_customer":         {"KUNDE", "CUSTOMER"},
	"hdr_amount":           {"BELØP", "AMOUNT"},
	"hdr_fp":               {"FP-ID", "FP ID"},
	"hdr_age":              {"ALDER", "AGE"},
	"hdr_actions":          {"HANDLINGER", "ACTIONS"},
	"hdr_detail":           {"DETALJER", "DETAIL"},
	"hdr_status":           {"STATUS", "STATUS"},
	"hdr_batch":            {"PARTI", "BATCH"},
	"hdr_source":           {"KILDE", "SOURCE"},
	"hdr_count":            {"ANTALL", "COUNT"},
	"found":                {"%d ordrer funnet", "%d orders found"},
	"found_limit":          {"%d ordrer funnet (flere kan finnes; snevre inn søket eller øk --limit)", "%d orders found (there may be more; narrow the search or raise --limit)"},
	"order":                {"Ordre %d — %s:%s", "Order %d — %s:%s"},
	"from_file":            {"Fra %s rad %d (parti %d), importert %s", "From %s row %d (batch %d), imported %s"},
	"customer":             {"Kunde", "Customer"},
	"status":               {"Status", "Status"},
	"fp_status":            {"FP sier", "FP says"},
	"fp_id":                {"FP-ordre-ID", "FP order id"},
	"payment_link":         {"Betalingslenke", "Payment link"},
	"bankid_link":          {"BankID-lenke", "BankID link"},
	"due":                  {"Forfall", "Due"},
	"attempts":             {"Forsøk", "Attempts"},
	"last_error":           {"Siste feil", "Last error"},
	"review_reason":        {"Til vurdering fordi", "In review because"},
	"duplicate":            {"Mulig duplikat", "Possible duplicate"},
	"lines":                {"Linjer", "Lines"},
	"line_hdr":             {"VARE\tNAVN\tANTALL\tPRIS\tRABATT\tMVA %\tBELØP", "PRODUCT\tNAME\tQTY\tRATE\tDISCOUNT\tVAT %\tAMOUNT"},
	"sums":                 {"Sum eks. mva %s, mva %s, rabatt %s, totalt %s", "Net %s, VAT %s, discount %s, total %s"},
	"history":              {"Historikk", "History"},
	"import":               {"importert", "imported"},
	"event":                {"hendelse", "event"},
	"attempt":              {"forsøk", "attempt"},
	"callback":             {"varsel fra FP", "FP callback"},
	"by":                   {"av %s", "by %s"},
	"none_yet":             {"ingen", "none"},
}

func word(lang, key string) string {
	w, ok := words[key]
	if !ok {
		return key
	}
	if lang == "en" {
		return w[1]
	}
	return w[0]
}

// operatorCmd is the flags every read-only operator command shares.
type operatorCmd struct {
	fs     *opFlags
	format *string
	lang   *string
}

func newOperatorCmd(name string, stderr io.Writer) operatorCmd {
	fs := newOpFlags(name, attentionUsage, stderr)
	return operatorCmd{fs: fs, format: fs.String("format", "text", "text or json"), lang: fs.String("lang", "no", "nb (bokmål) or en")}
}

func (c operatorCmd) parse(args []string) (pos []string, help bool, err error) {
	pos, help, err = c.fs.parse(args)
	if help || err != nil {
		return nil, help, err
	}
	if *c.format != "text" && *c.format != "json" {
		return nil, false, c.fs.usageErr("--format must be text or json")
	}
	// nb as the other commands take it (enqueue, report); "no" is the
	// page's and money's code for the same language.
	if *c.lang == "nb" {
		*c.lang = "no"
	}
	if *c.lang != "no" && *c.lang != "en" {
		return nil, false, c.fs.usageErr("--lang must be nb or en")
	}
	return pos, false, nil
}

// openOperator opens the database as openDesk does, keeping STALE_AFTER.
func openOperator(ctx context.Context, getenv func(string) string) (*operator.Desk, *daemon.Config, func(), error) {
	cfg, pool, err := openCommandDB(ctx, getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	desk, err := operator.New(pool)
	if err != nil {
		pool.Close()
		return nil, nil, nil, err
	}
	return desk, cfg, pool.Close, nil
}

// cmdAttention lists what needs a person.
func cmdAttention(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c := newOperatorCmd("worker attention", stderr)
	limit := c.fs.Int("limit", operator.DefaultAttentionLimit, "at most N items of each reason (the oldest)")
	pos, help, err := c.parse(args)
	if help || err != nil {
		return err
	}
	if len(pos) != 0 {
		return c.fs.usageErr("takes no arguments, got %q", pos)
	}
	if *limit < 1 {
		return c.fs.usageErr("--limit must be 1 or more")
	}
	desk, cfg, closeDB, err := openOperator(ctx, getenv)
	if err != nil {
		return err
	}
	defer closeDB()
	list, err := desk.Attention(ctx, operator.AttentionQuery{StaleAfter: cfg.StaleAfter, Limit: *limit})
	if err != nil {
		return err
	}
	if *c.format == "json" {
		return writeAttentionJSON(stdout, list, cfg.StaleAfter, cfg.Location)
	}
	return writeAttentionText(stdout, list, *c.lang, cfg.StaleAfter)
}

type attentionItemJSON struct {
	operator.Item
	Since      string `json:"since"`
	AgeSeconds int64  `json:"age_seconds"`
}

func writeAttentionJSON(w io.Writer, list *operator.AttentionList, staleAfter time.Duration, loc *time.Location) error {
	out := struct {
		Total      int64               `json:"total"`
		Totals     map[string]int64    `json:"totals"`
		Capped     []string            `json:"capped"` // reasons with more than their total`
		StaleAfter string              `json:"stale_after"`
		Items      []attentionItemJSON `json:"items"`
	}{Total: list.Total(), Totals: map[string]int64{}, Capped: []string{}, StaleAfter: staleAfter.String(), Items: []attentionItemJSON{}}
	for _, r := range operator.Reasons {
		out.Totals[r] = list.Totals[r]
		if list.Capped[r] {
			out.Capped = append(out.Capped, r)
		}
	}
	for _, it := range list.Items {
		out.Items = append(out.Items, attentionItemJSON{Item: it, Since: it.Since.In(loc).Format(time.RFC3339), AgeSeconds: int64(it.Age.Seconds())})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// writeAttentionText writes one block per reason: a heading with its count,
// then one aligned line per item.
func writeAttentionText(w io.Writer, list *operator.AttentionList, lang string, staleAfter time.Duration) error {
	if list.Total() == 0 {
		_, err := fmt.Fprintln(w, word(lang, "none"))
		return err
	}
	fmt.Fprintf(w, word(lang, "attention")+"\n", list.Total())
	for _, reason := range operator.Reasons {
		var items []operator.Item
		for _, it := range list.Items {
			if it.Reason == reason {
				items = append(items, it)
			}
		}
		if len(items) == 0 {
			continue
		}
		heading := word(lang, reason)
		if reason == "no_word_from_fp" {
			heading = fmt.Sprintf(heading, shortAge(staleAfter, lang))
		}
		count := fmt.Sprint(list.Totals[reason])
		if list.Capped[reason] {
			count = "over " + count
			if lang == "en" {
				count = "more than " + fmt.Sprint(list.Totals[reason])
			}
		}
		fmt.Fprintf(w, "\n%s (%s): %s", heading, reason, count)
		if int64(len(items)) < list.Totals[reason] {
			fmt.Fprintf(w, " "+word(lang, "shown"), len(items))
		}
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		if items[0].Order != nil {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", word(lang, "hdr_order"), word(lang, "hdr_customer"), word(lang, "hdr_amount"),
				word(lang, "hdr_fp"), word(lang, "hdr_age"), word(lang, "hdr_actions"), word(lang, "hdr_detail"))
			for _, it := range items {
				o := it.Order
				fmt.Fprintf(tw, "  %d %s:%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.ID, o.Kind, o.Ref, clip(o.Customer, 30), o.Total.Display(lang),
					dash(o.FPOrderUUID), shortAge(it.Age, lang), dash(strings.Join(it.Actions, ",")), clip(it.Detail, 70))
			}
		} else {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", word(lang, "hdr_source"), word(lang, "hdr_count"), word(lang, "hdr_age"), word(lang, "hdr_detail"))
			for _, it := range items {
				src := it.Source
				if it.BatchID != 0 {
					src = fmt.Sprintf("%s %d: %s", word(lang, "hdr_batch"), it.BatchID, it.Source)
				}
				fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\n", clip(src, 50), it.Count, shortAge(it.Age, lang), dash(clip(it.Detail, 70)))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// cmdOrders finds orders.
func cmdOrders(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c := newOperatorCmd("worker orders", stderr)
	search := c.fs.String("search", "", "reference, customer name, e-mail (a part of at least 3 characters), FP order id, id or batch")
	limit := c.fs.Int("limit", operator.DefaultSearchLimit, "at most N orders, newest first")
	pos, help, err := c.parse(args)
	if help || err != nil {
		return err
	}
	if len(pos) != 0 {
		return c.fs.usageErr("give the text as --search TEXT, not %q", pos)
	}
	if strings.TrimSpace(*search) == "" {
		return c.fs.usageErr("--search TEXT is required")
	}
	if *limit < 1 {
		return c.fs.usageErr("--limit must be 1 or more")
	}
	desk, _, closeDB, err := openOperator(ctx, getenv)
	if err != nil {
		return err
	}
	defer closeDB()
	found, err := desk.Search(ctx, *search, *limit)
	if err != nil {
		return err
	}
	if *c.format == "json" {
		out := struct {
			Search string           `json:"search"`
			Orders []operator.Order `json:"orders"`
			More   bool             `json:"more"`
		}{*search, found, len(found) == *limit}
		if out.Orders == nil {
			out.Orders = []operator.Order{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}

	lang := *c.lang
	if len(found) == *limit {
		fmt.Fprintf(stdout, word(lang, "found_limit")+"\n", len(found))
	} else {
		fmt.Fprintf(stdout, word(lang, "found")+"\n", len(found))
	}
	if len(found) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", word(lang, "hdr_order"), word(lang, "hdr_batch"), word(lang, "hdr_customer"),
		word(lang, "hdr_amount"), word(lang, "hdr_status"), word(lang, "hdr_fp"))
	for _, o := range found {
		fmt.Fprintf(tw, "%d %s:%s\t%d\t%s\t%s\t%s\t%s\n", o.ID, o.Kind, o.Ref, o.BatchID, clip(o.Customer, 30), o.Total.Display(lang),
			o.Status, dash(o.FPOrderUUID))
	}
	return tw.Flush()
}

// cmdOrder shows one order and its history.
func cmdOrder(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c := newOperatorCmd("worker order", stderr)
	pos, help, err := c.parse(args)
	if help || err != nil {
		return err
	}
	if len(pos) != 1 {
		return c.fs.usageErr("want one ORDER, got %d", len(pos))
	}
	desk, cfg, closeDB, err := openOperator(ctx, getenv)
	if err != nil {
		return err
	}
	defer closeDB()
	h, err := desk.HistoryOf(ctx, pos[0])
	if err != nil {
		return err
	}
	if *c.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(h)
	}
	return writeOrderText(stdout, h, *c.lang, cfg.Location)
}

func writeOrderText(w io.Writer, h *operator.History, lang string, loc *time.Location) error {
	o := h.Order
	at := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05") }
	fmt.Fprintf(w, word(lang, "order")+"\n", o.ID, o.Kind, o.Ref)
	fmt.Fprintf(w, word(lang, "from_file")+"\n", h.Source, h.SourceRow, o.BatchID, at(h.ImportedAt))
	customer := o.Customer
	if h.Email != "" {
		customer += ", " + h.Email
	}
	fmt.Fprintf(w, "%s: %s\n", word(lang, "customer"), customer)
	status := o.Status
	if h.FPStatus != "" {
		status += fmt.Sprintf(" (%s %s)", word(lang, "fp_status"), h.FPStatus)
	}
	fmt.Fprintf(w, "%s: %s (%s)\n", word(lang, "status"), status, at(h.StatusAt))
	fmt.Fprintf(w, "%s: %s\n", word(lang, "fp_id"), dash(o.FPOrderUUID))
	for _, kv := range [][2]string{
		{"payment_link", o.PaymentURL}, {"bankid_link", h.BankIDURL}, {"due", h.DueDate},
		{"last_error", h.LastError}, {"review_reason", h.ReviewReason}, {"duplicate", h.PossibleDuplicate},
	} {
		if kv[1] != "" {
			fmt.Fprintf(w, "%s: %s\n", word(lang, kv[0]), kv[1])
		}
	}
	fmt.Fprintf(w, "%s: %d\n\n%s:\n", word(lang, "attempts"), h.Attempts, word(lang, "lines"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  %s\n", word(lang, "line_hdr"))
	for i, l := range h.Lines {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%d\t%s\n", dash(l.ProductID), clip(l.Name, 40), l.Quantity, l.Rate.Display(lang),
			l.Discount.Display(lang), l.TaxPercent, h.Totals.Lines[i].Amount.Display(lang))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	t := h.Totals
	fmt.Fprintf(w, "  "+word(lang, "sums")+"\n\n%s:\n", t.SubTotal.Display(lang), t.TotalTax.Display(lang),
		t.TotalDiscount.Display(lang), t.GrandTotal.Display(lang), word(lang, "history"))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range h.Entries {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", at(e.At), word(lang, e.Kind), e.Type, dash(e.Status), entryDetail(e, lang))
	}
	if len(h.Entries) == 0 {
		fmt.Fprintf(tw, "  %s\n", word(lang, "none_yet"))
	}
	return tw.Flush()
}

// entryDetail is an entry's detail on one line: who and why for a
// person's action, FP's answer for an attempt, the rest as key=value.
func entryDetail(e operator.Entry, lang string) string {
	var parts []string
	if e.By != "" {
		parts = append(parts, fmt.Sprintf(word(lang, "by"), e.By))
	}
	if e.Note != "" {
		parts = append(parts, "«"+clip(e.Note, 80)+"»")
	}
	keys := make([]string, 0, len(e.Detail))
	for k := range e.Detail {
		if k != "by" && k != "note" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		v, _ := json.Marshal(e.Detail[k])
		parts = append(parts, k+"="+clip(strings.Trim(string(v), `"`), 80))
	}
	return strings.Join(parts, " ")
}

// shortAge is a duration as a person reads an age: 45 min, 5 t, 3 d.
func shortAge(d time.Duration, lang string) string {
	hour, day := "t", "d"
	if lang == "en" {
		hour = "h"
	}
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d %s", int(d.Hours()), hour)
	}
	return fmt.Sprintf("%d %s", int(d.Hours()/24), day)
}

// clip keeps a free text on its line and within n characters.
func clip(s string, n int) string {
	s = oneLine(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
