package store

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/frontpayment/fpexport/internal/report"
)

// trustedVerdicts are the verdicts that are not untrusted: authentic
// callbacks (accepted, orphan) and keyless ones awaiting FP's word
// (awaiting_fp: the token names one of our orders, and without a checksum
// key every callback FP itself sends is one; limiting them per source would
// throttle FP. They move nothing until FP confirms them, and one FP does not
// confirm becomes not_confirmed, untrusted). Every other verdict, including
// any added later, is untrusted: the list names the trusted ones so that a
// new kind of refusal is bounded without anyone remembering to add it here.
// The SQL of migration 0007 (the view and its indexes) and untrustedSQL say
// the same.
var trustedVerdicts = []string{VerdictAccepted, VerdictOrphan, VerdictAwaitingFP}

// untrustedSQL is Untrusted as a condition on the callbacks column verdict.
const untrustedSQL = `verdict NOT IN ('accepted', 'orphan', 'awaiting_fp')`

// Untrusted reports whether a callback with this verdict is untrusted:
// neither accepted nor an orphan (authentic, for an order we do not have).
// Untrusted callbacks are rate-limited, stored up to a cap, kept for a
// retention period and shown in the report as counts.
func Untrusted(verdict string) bool {
	return !slices.Contains(trustedVerdicts, verdict)
}

// CallbackSource is the source an untrusted callback is limited and counted
// by: its address, or for IPv6 the address's /64, since one host (or one
// customer of a provider) commonly holds a whole /64 and could otherwise
// pick a fresh address for every request. An IPv4 address mapped into IPv6
// counts as the IPv4 address. Text that is not an address stands for itself.
// The SQL function callback_source (migration 0007) is the same.
func CallbackSource(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}

// Reasons an untrusted callback was counted but not stored.
const (
	NotStoredRateLimited = "rate_limited" // over its source's rate: answered 429
	NotStoredSourceCap   = "source_cap"   // its source stored its hour's share
	NotStoredTotalCap    = "total_cap"    // all sources stored the hour's total
)

// UntrustedCount is how many untrusted callbacks of one source and verdict
// were not stored for one reason in one hour.
type UntrustedCount struct {
	Hour    time.Time // start of the hour
	Source  string    // CallbackSource
	Verdict string
	Reason  string
	Count   int64
}

// AddUntrustedCounts adds counts to table untrusted_callback_counts in one
// statement.
func AddUntrustedCounts(ctx context.Context, db DB, cs []UntrustedCount) error {
	if len(cs) == 0 {
		return nil
	}
	hours := make([]time.Time, len(cs))
	sources := make([]string, len(cs))
	verdicts := make([]string, len(cs))
	reasons := make([]string, len(cs))
	counts := make([]int64, len(cs))
	for i, c := range cs {
		hours[i], sources[i], verdicts[i], reasons[i], counts[i] = c.Hour, c.Source, c.Verdict, c.Reason, c.Count
	}
	// Sorted by key, so that two processes adding at once lock the rows in
	// the same order and never deadlock.
	_, err := db.Exec(ctx, `INSERT INTO untrusted_callback_counts (hour, source, verdict, reason, count)
		SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::bigint[])
		ORDER BY 1, 2, 3, 4
		ON CONFLICT (hour, source, verdict, reason) DO UPDATE SET count = untrusted_callback_counts.count + excluded.count`,
		hours, sources, verdicts, reasons, counts)
	return err
}

// pruneBatch bounds one delete, so that pruning a large backlog never
// holds many locks or one long transaction.
const pruneBatch = 10_000

// PruneUntrusted deletes the untrusted callbacks received before cutoff and
// the counts of hours before it, and returns how many rows of each went.
// Trusted callbacks (accepted, orphan) are kept: they are the orders'
// history.
func PruneUntrusted(ctx context.Context, db DB, cutoff time.Time) (callbacks, counts int64, err error) {
	for {
		tag, err := db.Exec(ctx, `DELETE FROM callbacks WHERE id IN (
				SELECT id FROM callbacks WHERE `+untrustedSQL+` AND received_at < $1 LIMIT $2)`, cutoff, pruneBatch)
		if err != nil {
			return callbacks, counts, err
		}
		callbacks += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			break
		}
	}
	tag, err := db.Exec(ctx, `DELETE FROM untrusted_callback_counts WHERE hour < $1`, cutoff)
	if err != nil {
		return callbacks, counts, err
	}
	return callbacks, tag.RowsAffected(), nil
}

// UntrustedLine is one line of the report's untrusted callbacks: a source
// and verdict with how many of its callbacks were stored and how many only
// counted, in the period.
type UntrustedLine struct {
	Source    string // CallbackSource; on the "others" line, "(N other sources)"
	Verdict   string
	Stored    int64
	NotStored int64
	First     time.Time
	Last      time.Time
	// Others is set on the last line when it sums the lines (sources and
	// verdicts) beyond MaxUntrustedLines-1: how many it sums.
	Others int
}

// MaxUntrustedLines bounds the report's untrusted callback lines: the
// largest sources come one a line, the rest are summed into the last.
const MaxUntrustedLines = 50

// UntrustedLines reads the untrusted callbacks of the period (Europe/Oslo
// dates from and to, inclusive) from the view
// reconciliation_untrusted_callbacks: per source and verdict, most
// callbacks first, at most MaxUntrustedLines lines.
func UntrustedLines(ctx context.Context, db DB, from, to string) ([]UntrustedLine, error) {
	rows, err := db.Query(ctx, `SELECT source, verdict, sum(stored)::bigint, sum(not_stored)::bigint, min(first_at), max(last_at)
		FROM reconciliation_untrusted_callbacks
		WHERE day BETWEEN $1::date AND $2::date
		GROUP BY source, verdict`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var lines []UntrustedLine
	for rows.Next() {
		var l UntrustedLine
		if err := rows.Scan(&l.Source, &l.Verdict, &l.Stored, &l.NotStored, &l.First, &l.Last); err != nil {
			return nil, err
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return limitUntrustedLines(lines, MaxUntrustedLines), nil
}

// limitUntrustedLines sorts lines by total, largest first, and sums those
// past max-1 into one last line.
func limitUntrustedLines(lines []UntrustedLine, max int) []UntrustedLine {
	slices.SortFunc(lines, func(a, b UntrustedLine) int {
		return cmp.Or(cmp.Compare(b.Stored+b.NotStored, a.Stored+a.NotStored),
			strings.Compare(a.Source, b.Source), strings.Compare(a.Verdict, b.Verdict))
	})
	if len(lines) <= max {
		return lines
	}
	rest := lines[max-1:]
	sum := UntrustedLine{First: rest[0].First, Last: rest[0].Last, Others: len(rest)}
	sources := map[string]bool{}
	verdicts := map[string]bool{}
	for _, l := range rest {
		sum.Stored += l.Stored
		sum.NotStored += l.NotStored
		if l.First.Before(sum.First) {
			sum.First = l.First
		}
		if l.Last.After(sum.Last) {
			sum.Last = l.Last
		}
		sources[l.Source] = true
		verdicts[l.Verdict] = true
	}
	sum.Source = fmt.Sprintf("(%d other sources)", len(sources))
	if len(verdicts) == 1 {
		sum.Verdict = rest[0].Verdict
	} else {
		sum.Verdict = "various"
	}
	return append(lines[:max-1:max-1], sum)
}

// untrustedExceptions adds the period's untrusted callbacks to r.Other, one
// exception per source and verdict (UntrustedLines), never their token,
// checksum or FP fields.
func untrustedExceptions(ctx context.Context, db DB, r *report.Report, from, to string) error {
	lines, err := UntrustedLines(ctx, db, from, to)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		return err
	}
	const at = "2006-01-02 15:04"
	for _, l := range lines {
		verdict := l.Verdict
		if l.Others > 0 {
			verdict = fmt.Sprintf("%s (%d lines summed)", verdict, l.Others)
		}
		r.Other = append(r.Other, report.Exception{
			Type:   report.ExceptionUntrustedCallback,
			Source: l.Source,
			Detail: fmt.Sprintf("%s: %d callbacks, %d stored, %d not stored (over the limits); first %s, last %s (Europe/Oslo)",
				verdict, l.Stored+l.NotStored, l.Stored, l.NotStored, l.First.In(loc).Format(at), l.Last.In(loc).Format(at)),
		})
	}
	return nil
}
