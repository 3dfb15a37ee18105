package jobs

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/frontpayment/fpexport/internal/jobargs"
)

// SubmitQueue inserts submit jobs for internal/orders (orders.Queue) with a
// River client; one that only inserts, never started, is enough.
type SubmitQueue struct{ Client *river.Client[pgx.Tx] }

// InsertSubmitTx inserts the submit job of an order's version in tx.
func (q SubmitQueue) InsertSubmitTx(ctx context.Context, tx pgx.Tx, orderID int64, version int) (int64, bool, error) {
	ins, err := q.Client.InsertTx(ctx, tx, jobargs.SubmitOrderArgs{OrderID: orderID, Version: version}, nil)
	if err != nil {
		return 0, false, err
	}
	return ins.Job.ID, ins.UniqueSkippedAsDuplicate, nil
}
