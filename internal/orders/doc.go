// Package orders owns an order's status: every change of orders.status is
// made here, and each is a move of orderstate's transition table made by one
// of its actors.
//
//   - The submit job (submit.go): an attempt starts (queued → submitting),
//     FP accepts (submitted), or the job settles it (queued for the next run,
//     needs_review, provider_rejected, failed).
//   - FP's word (fpword.go): a callback, a status poll, a keyless callback
//     FP confirmed, a catch-up poll.
//   - A person (decide.go, requeue.go): `worker review` and `worker retry`.
//   - An import (merge.go): a changed order is queued to be sent again. A new
//     order is inserted queued (the column's default): that insert is the
//     one write of a status outside a move.
//
// A move writes the status and its order_events row in one statement (door.go)
// after checking it against the table. The submit job's hot path (starting
// an attempt, recording FP's acceptance) and FP's word fuse the move with
// the other rows they write into one statement each, for speed; they take
// the states they may move from out of the same table. internal/store keeps
// the row-level SQL that reads and locks orders and writes everything but
// their status; owner_test.go fails when SQL elsewhere writes orders.status.
package orders
