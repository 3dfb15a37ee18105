package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/frontpayment/fpexport/internal/money"
	"github.com/frontpayment/fpexport/internal/store"
)

const reviewUsage = `usage:
  worker review [--format text|json]
  worker review resubmit ORDER [--fpgo-uuid UUID|known] [--note TEXT] [--by NAME]
  worker review confirm ORDER ORDER_UUID [--note TEXT] [--by NAME]

ORDER is the order id, kind:order_ref, or an order_ref only one order has.
`

// cmdReview lists the orders in needs_review, or records an operator's
// decision about one of them (see README, Commands).
func cmdReview(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	sub := "list"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	fs := newOpFlags("worker review "+sub, reviewUsage, stderr)
	var format, fpgo *string
	var decision func() (store.ReviewDecision, error)
	var positional int
	switch sub {
	case "list":
		format = fs.String("format", "text", "text or json")
	case "resubmit":
		fpgo = fs.String("fpgo-uuid", "", "send as an update of this FP order (orderUuid), or known: the one the order holds")
		positional = 1
	case "confirm":
		positional = 2
	case "help":
		fmt.Fprint(stdout, reviewUsage)
		return nil
	default:
		fmt.Fprintf(stderr, "worker review: unknown subcommand %q\n\n%s", sub, reviewUsage)
		return errUsage
	}
	if sub != "list" {
		decision = fs.decisionFlags(getenv, "why: kept in the decision's event")
	}
	pos, help, err := fs.parse(args)
	if help || err != nil {
		return err
	}
	if len(pos) != positional {
		return fs.usageErr("want %d argument(s), got %d", positional, len(pos))
	}
	if format != nil && *format != "text" && *format != "json" {
		return fs.usageErr("--format must be text or json")
	}
	if sub == "confirm" {
		if err := checkFPUUID(pos[1]); err != nil {
			return fs.usageErr("ORDER_UUID %s", err)
		}
	}
	if fpgo != nil && flagSet(fs.FlagSet, "fpgo-uuid") && *fpgo != "known" {
		if err := checkFPUUID(*fpgo); err != nil {
			return fs.usageErr("--fpgo-uuid %s", err)
		}
	}
	var d store.ReviewDecision
	if decision != nil {
		if d, err = decision(); err != nil {
			return err
		}
	}

	desk, loc, closeDB, err := openDesk(ctx, getenv)
	if err != nil {
		return err
	}
	defer closeDB()

	switch sub {
	case "resubmit":
		r := store.Resubmit{ReviewDecision: d, FpgoUUID: *fpgo}
		if *fpgo == "known" {
			r.FpgoUUID, r.KnownFpgo = "", true
		}
		res, jobID, err := desk.Resubmit(ctx, pos[0], r)
		if err != nil {
			return err
		}
		how := "as a new FP order"
		if res.FpgoUUID != "" {
			how = "as an update of FP order " + res.FpgoUUID
		}
		fmt.Fprintf(stdout, "order %s: queued to be sent again %s (submit job %d); `worker run` sends it\n", res.Order, how, jobID)
		return nil
	case "confirm":
		ref, err := desk.Confirm(ctx, pos[0], pos[1], d)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "order %s: submitted as FP order %s; nothing was sent\n", ref, pos[1])
		return nil
	}
	items, err := desk.NeedsReview(ctx)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeReviewJSON(stdout, items, loc)
	}
	return writeReviewText(stdout, items, loc, time.Now())
}

// checkFPUUID checks an FP order id loosely: FP's ids look like ODR + digits
// today, but nothing documents that they always will.
func checkFPUUID(s string) error {
	switch {
	case s == "":
		return errors.New("is empty")
	case len(s) > 64:
		return fmt.Errorf("is %d characters long; FP's order ids are far shorter", len(s))
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0:
		return fmt.Errorf("%q holds a space or a control character", s)
	}
	return nil
}

// writeReviewText writes one aligned line per order and, indented under
// it, why it waits and what its last attempt left. Amounts are NOK as the
// report writes them (4500.00); times in TZ_REPORTS.
func writeReviewText(w io.Writer, items []store.ReviewItem, loc *time.Location, now time.Time) error {
	if len(items) == 0 {
		_, err := fmt.Fprintln(w, "no orders need review")
		return err
	}
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tORDER_REF\tCUSTOMER\tNOK\tIN REVIEW SINCE\tATTEMPTS\tFP ORDER")
	for _, it := range items {
		fp := it.FPOrderUUID
		if fp == "" {
			fp = "-"
		}
		if it.PossibleDuplicate != "" {
			fp += " (possible duplicate " + it.PossibleDuplicate + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s (%s ago)\t%d\t%s\n", it.ID, it.Kind, it.Ref, oneLine(it.CustomerName),
			money.Amount(it.GrandTotalOre).NOK(), it.StatusAt.In(loc).Format("2006-01-02 15:04"), age(now.Sub(it.StatusAt)), it.Attempts, fp)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n")
	var b strings.Builder
	b.WriteString(lines[0] + "\n")
	for i, it := range items {
		b.WriteString(lines[i+1] + "\n")
		b.WriteString("    reason:       " + oneLine(it.ReviewReason) + "\n")
		b.WriteString("    last attempt: " + attemptLine(it.LastAttempt, loc) + "\n")
	}
	fmt.Fprintf(&b, "\n%d order(s) need review. Decide each: worker review resubmit ORDER [--fpgo-uuid UUID|known], or worker review confirm ORDER ORDER_UUID\n", len(items))
	_, err := io.WriteString(w, b.String())
	return err
}

func attemptLine(a *store.AttemptEvidence, loc *time.Location) string {
	if a == nil {
		return "none recorded"
	}
	outcome := a.Outcome
	if outcome == "" {
		outcome = "no outcome recorded"
	}
	status := "no HTTP answer"
	if a.HTTPStatus != 0 {
		status = "HTTP " + strconv.Itoa(a.HTTPStatus)
	}
	s := fmt.Sprintf("#%d at %s: %s, %s", a.Attempt, a.StartedAt.In(loc).Format("2006-01-02 15:04:05"), outcome, status)
	if a.FpgoUUID != "" {
		s += ", as an update of " + a.FpgoUUID
	}
	if a.Message != "" {
		s += ": " + oneLine(a.Message)
	}
	return s
}

// oneLine keeps a table row on one line whatever a name or message holds.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "<1m"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

type reviewJSON struct {
	Orders []reviewOrderJSON `json:"orders"`
}

type reviewOrderJSON struct {
	OrderID           int64              `json:"order_id"`
	Kind              string             `json:"kind"`
	OrderRef          string             `json:"order_ref"`
	Source            string             `json:"source"`
	SourceRow         int                `json:"source_row"`
	CustomerName      string             `json:"customer_name"`
	GrandTotal        json.Number        `json:"grand_total"` // NOK, two decimals, exact
	GrandTotalOre     int64              `json:"grand_total_ore"`
	StatusAt          time.Time          `json:"status_at"`
	ReviewReason      string             `json:"review_reason"`
	Attempts          int                `json:"attempts"`
	FPOrderUUID       *string            `json:"fp_order_uuid"`
	PossibleDuplicate *string            `json:"possible_duplicate"`
	LastAttempt       *reviewAttemptJSON `json:"last_attempt"`
}

type reviewAttemptJSON struct {
	Attempt    int        `json:"attempt"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Outcome    *string    `json:"outcome"`
	HTTPStatus *int       `json:"http_status"`
	Message    string     `json:"message"`
	FpgoUUID   *string    `json:"fpgo_uuid"`
}

func writeReviewJSON(w io.Writer, items []store.ReviewItem, loc *time.Location) error {
	out := reviewJSON{Orders: []reviewOrderJSON{}}
	for _, it := range items {
		o := reviewOrderJSON{OrderID: it.ID, Kind: it.Kind, OrderRef: it.Ref, Source: it.Source, SourceRow: it.SourceRow,
			CustomerName: it.CustomerName, GrandTotal: json.Number(money.Amount(it.GrandTotalOre).NOK()), GrandTotalOre: it.GrandTotalOre,
			StatusAt: it.StatusAt.In(loc), ReviewReason: it.ReviewReason, Attempts: it.Attempts,
			FPOrderUUID: orNull(it.FPOrderUUID), PossibleDuplicate: orNull(it.PossibleDuplicate)}
		if a := it.LastAttempt; a != nil {
			o.LastAttempt = &reviewAttemptJSON{Attempt: a.Attempt, StartedAt: a.StartedAt.In(loc), FinishedAt: inLoc(a.FinishedAt, loc),
				Outcome: orNull(a.Outcome), Message: a.Message, FpgoUUID: orNull(a.FpgoUUID)}
			if a.HTTPStatus != 0 {
				o.LastAttempt.HTTPStatus = &a.HTTPStatus
			}
		}
		out.Orders = append(out.Orders, o)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func inLoc(t *time.Time, loc *time.Location) *time.Time {
	if t == nil {
		return nil
	}
	l := t.In(loc)
	return &l
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
