package operator

import "github.com/frontpayment/fpexport/internal/orderstate"

// Fits says whether a person's action on order o may be asked now, by its
// status and whether FP has it: only an order FP has can be resent or
// cancelled at FP; one FP has not got is withdrawn here instead. The
// action itself checks again when it is done (the status may have moved).
func (o Order) Fits(action string) bool {
	s, atFP := orderstate.Status(o.Status), o.FPOrderUUID != ""
	switch action {
	case ActionCancel:
		return atFP && orderstate.Allowed(s, orderstate.CancelRequested, orderstate.Person)
	case ActionResend:
		return atFP && !orderstate.Final(s)
	case ActionWithdraw:
		return !atFP && orderstate.Allowed(s, orderstate.Withdrawn, orderstate.Person)
	}
	return false
}
