package web

import (
	"slices"
	"testing"

	"github.com/frontpayment/fpexport/internal/operator"
	"github.com/frontpayment/fpexport/internal/orderstate"
)

// Every status an order can have, every reason the attention list gives
// and every action it offers has a name on the page in both languages, and
// every status has its column in the batch tables: a new status or reason
// cannot reach the page as a raw key.
func TestEveryStatusReasonAndActionNamed(t *testing.T) {
	t.Parallel()
	var keys []string
	for _, s := range orderstate.All {
		keys = append(keys, "status."+string(s))
		if !slices.Contains(statusOrder, string(s)) {
			t.Errorf("status %s is not in the page's statusOrder", s)
		}
	}
	for _, r := range operator.Reasons {
		keys = append(keys, "reason."+r)
	}
	for _, a := range []string{operator.ActionRetry, operator.ActionReview, operator.ActionResend, operator.ActionCancel, operator.ActionWithdraw} {
		keys = append(keys, "action."+a)
	}
	for lang, m := range labels {
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("no %s label %q", lang, k)
			}
		}
	}
}
