// Package orders owns an order's status: every change of orders.status is
// made here, and each is a move of orderstate's transition table made by one
// of its actors.
//
//   - The submit job (submit.go): an attempt starts (queued → submitting),
//     FP accepts (submitted), or the job settles it (queued for the next run,
//     needs_review, provider_rejected, invalid_payload, failed).
//   - FP's word (fpword.go): a callback, a status poll, a keyless callback
//     FP confirmed, a catch-up poll (actor FP, or FPLate for a word older
//     than the one applied).
//   - A person (decide.go, requeue.go): `worker review` and `worker retry`.
//   - An import (merge.go): a changed order is queued to be sent again. A new
//     order is inserted queued (the column's default): that insert is the
//     one write of a status outside a move.
//
// Every move is a move value made by one function, move.stmt (door.go): one
// statement that updates the status, guarded by the states the table lets
// the actor move from, and writes the move's event. A move adds what it
// writes besides: columns of the order; CTEs that must be written with it
// (an attempt's start inserts its attempt, FP's acceptance closes one), so
// the submit job's hot path stays one statement; a set of orders (an
// import's changed orders); and, for FP's word and FP's acceptance, the
// order's other columns written even when its status may not move (its
// `callback` event records every word, moved or not; the caller gives the
// event's detail, DecideFPWord says beforehand what the word will do).
// internal/store keeps the row-level SQL that reads and locks orders and
// writes everything but their status; owner_test.go fails when SQL outside
// door.go writes orders.status.
package orders
