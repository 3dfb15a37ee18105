package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/erp"
	"github.com/frontpayment/fpexport/internal/inbox"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/store"
)

// RunInbox imports every file of the inbox that is ready, and logs one line
// per file; inserter is the River client that queues the submit jobs inside
// each file's transaction.
func (im Imports) RunInbox(ctx context.Context, inserter *river.Client[pgx.Tx], args jobargs.ImportArgs) error {
	log := im.Logger.With("import", args.Source, "slot", args.Slot.Format(time.RFC3339), "dir", im.InboxDir)
	res, err := inbox.Import(ctx, im.Pool, inserter, im.InboxDir, inbox.Options{MinAge: im.InboxMinAge, Intake: im.Settings.Options(time.Now())})
	if res != nil {
		for _, f := range res.Files {
			level := slog.LevelInfo
			if f.Outcome == inbox.Failed {
				level = slog.LevelWarn
			}
			log.Log(ctx, level, "inbox file "+string(f.Outcome), batchAttrs(f)...)
		}
		if len(res.Waiting) > 0 {
			log.Info("inbox files left for the next run (modified too recently)", "files", res.Waiting)
		}
		if len(res.Ignored) > 0 {
			log.Info("inbox files ignored (not .csv or .xlsx)", "files", res.Ignored)
		}
		log.Info("inbox import done", "files", len(res.Files), "failed", res.Failed())
	}
	if err != nil {
		log.Error("inbox import stopped; the file being imported stays in the inbox", "error", err)
	}
	return err
}

// batchAttrs are an inbox file's log fields: the batch it became and its
// counts as fields of their own, so one line per batch can be searched.
func batchAttrs(f inbox.FileResult) []any {
	attrs := []any{"file", f.Name, "detail", f.Message()}
	if b := f.Batch; b != nil {
		attrs = append(attrs, "batch", b.BatchID, "new", b.Counts[store.OrderNew], "changed", b.Counts[store.OrderChanged],
			"unchanged", b.Counts[store.OrderUnchanged], "refused", b.Counts[store.OrderRefused], "rejected_rows", f.RejectedRows,
			"submit_jobs", b.JobsQueued)
	}
	return attrs
}

// RunERP imports the ERP table's new and changed rows, and logs what it did.
func (im Imports) RunERP(ctx context.Context, inserter *river.Client[pgx.Tx], args jobargs.ImportArgs) error {
	log := im.Logger.With("import", args.Source, "slot", args.Slot.Format(time.RFC3339))
	res, err := erp.Import(ctx, im.Pool, inserter, *im.ERP, erp.Options{Intake: im.Settings.Options(time.Now())})
	if err != nil {
		log.Error("ERP import failed; nothing imported, the watermark stays", "error", err)
		return err
	}
	log = log.With("source", res.Source, "watermark_column", res.WatermarkColumn)
	if res.File == nil {
		log.Info("ERP import: no rows changed", "watermark", res.From)
		return nil
	}
	st := res.File.Stats
	attrs := []any{"rows", st.Rows, "valid_orders", st.Orders, "rejected_rows", res.File.RejectedRowCount(),
		"watermark_from", res.From, "watermark_to", res.To}
	if b := res.Batch; b != nil {
		attrs = append(attrs, "batch", b.BatchID, "new", b.Counts[store.OrderNew], "changed", b.Counts[store.OrderChanged],
			"unchanged", b.Counts[store.OrderUnchanged], "refused", b.Counts[store.OrderRefused], "submit_jobs", b.JobsQueued)
	}
	if res.File.RejectedRowCount() > 0 || (res.Batch != nil && len(res.Batch.Refused) > 0) {
		log.Warn("ERP import done, with rejected rows (in the reconciliation report)", attrs...)
		for i, e := range st.Errors {
			if i == 20 {
				log.Warn("ERP import: more rejected rows", "count", len(st.Errors)-i)
				break
			}
			log.Warn("ERP row rejected", "detail", e.Error())
		}
		return nil
	}
	log.Info("ERP import done", attrs...)
	return nil
}
