package daemon

import "time"

// giveUpHeldAnswers ends a stop that found FP answers still held because the
// database is away (internal/throttle hold.go): they were tried until the
// stop's time was up. Each holder logs its answer (order, attempt, FP's
// orderUuid, no personal data) as it gives up; the next run takes those
// attempts for unanswered (docs/outage.md).
func (d *Daemon) giveUpHeldAnswers() {
	n := d.throttle.Holding()
	if n == 0 {
		return
	}
	d.logger.Error("stopping with FP answers unrecorded: the database is still away", "held", n)
	d.throttle.GiveUpHeld()
	// The holders log and let go at once; a moment for their lines.
	for deadline := time.Now().Add(2 * time.Second); d.throttle.Holding() > 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
}
