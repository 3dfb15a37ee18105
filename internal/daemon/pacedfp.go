package daemon

import (
	"context"
	"fmt"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/throttle"
)

// pacedFP is the FP client the web page's actions (cancel, resend) use:
// each request takes a rate slot and a concurrency place from the same
// throttle as the submissions, so a bulk cancel from the page cannot push
// the worker processes together past FP's rate limit. A request the
// throttle holds back (paused token, answers held after an outage, the
// context ended) is not sent; the action reports "try again later".
type pacedFP struct {
	fp       *fpclient.Client
	throttle *throttle.Throttle
}

func (p *pacedFP) Cancel(ctx context.Context, orderUUID, note string) (*fpclient.Accepted, error) {
	var acc *fpclient.Accepted
	err := p.paced(ctx, func() (err error) {
		acc, err = p.fp.Cancel(ctx, orderUUID, note)
		return err
	})
	return acc, err
}

func (p *pacedFP) Resend(ctx context.Context, orderUUID string, to fpclient.Contact) (*fpclient.Accepted, error) {
	var acc *fpclient.Accepted
	err := p.paced(ctx, func() (err error) {
		acc, err = p.fp.Resend(ctx, orderUUID, to)
		return err
	})
	return acc, err
}

// paced sends once the throttle lets it. An error before send is a plain
// error (not an *fpclient.Error): the action records it as "try later",
// never as a lost answer.
func (p *pacedFP) paced(ctx context.Context, send func() error) error {
	slot, err := p.throttle.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("not sent to FP now (its rate limit or a pause): %w", err)
	}
	defer slot.Release()
	if err := slot.Go(ctx); err != nil {
		return fmt.Errorf("not sent to FP now (its rate limit or a pause): %w", err)
	}
	return send()
}
