package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/frontpayment/fpexport/internal/money"
	"github.com/frontpayment/fpexport/internal/operator"
	"github.com/frontpayment/fpexport/internal/store"
)

// The pages that close the loop: what needs a person (/web/attention),
// finding an order (/web/orders?q=) and one order's whole history
// (/web/orders/{id}). They read through internal/operator, the same code
// as `worker attention`, `worker orders --search` and `worker order`.

// attentionGroup is one reason's items on the attention page.
type attentionGroup struct {
	Reason string
	Total  int64
	Capped bool
	Items  []operator.Item
}

type attentionData struct {
	Groups []attentionGroup
	Total  int64
	Limit  int
}

func (h *Handler) attentionPage(w http.ResponseWriter, r *http.Request, req request) {
	list, err := h.desk.Attention(r.Context(), operator.AttentionQuery{Now: h.now(), StaleAfter: h.cfg.StaleAfter})
	if err != nil {
		h.internalError(w, r, req, "listing attention", err)
		return
	}
	d := attentionData{Total: list.Total(), Limit: operator.DefaultAttentionLimit}
	for _, reason := range operator.Reasons {
		g := attentionGroup{Reason: reason, Total: list.Totals[reason], Capped: list.Capped[reason]}
		for _, it := range list.Items {
			if it.Reason == reason {
				g.Items = append(g.Items, it)
			}
		}
		if len(g.Items) > 0 {
			d.Groups = append(d.Groups, g)
		}
	}
	h.render(w, r, http.StatusOK, "attention", h.pageFor(req, "attention.title", d))
}

type ordersData struct {
	Query   string
	Orders  []operator.Order
	Limit   int
	TooFew  bool // a text shorter than a part search needs, that found nothing
	Limited bool // as many as Limit: there may be more
}

func (h *Handler) ordersPage(w http.ResponseWriter, r *http.Request, req request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	d := ordersData{Query: q, Limit: operator.DefaultSearchLimit}
	if q != "" {
		found, err := h.desk.Search(r.Context(), q, d.Limit)
		if err != nil {
			h.internalError(w, r, req, "searching orders", err)
			return
		}
		d.Orders, d.Limited = found, len(found) == d.Limit
		d.TooFew = len(found) == 0 && len([]rune(q)) < store.MinSearchPart
	}
	h.render(w, r, http.StatusOK, "orders", h.pageFor(req, "orders.title", d))
}

func (h *Handler) orderPage(w http.ResponseWriter, r *http.Request, req request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, req, http.StatusNotFound, label(req.lang, "order.not_found"))
		return
	}
	hist, err := h.desk.History(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		h.fail(w, req, http.StatusNotFound, label(req.lang, "order.not_found"))
		return
	}
	if err != nil {
		h.internalError(w, r, req, "reading an order's history", err)
		return
	}
	p := h.pageFor(req, "", hist)
	p.Title = fmt.Sprintf(label(req.lang, "order.title"), hist.Order.Ref)
	h.render(w, r, http.StatusOK, "order", p)
}

// Amount formats an amount in the page's language.
func (p page) Amount(a money.Amount) string { return a.Display(p.Lang) }

// Reason is an attention reason's label.
func (p page) Reason(reason string) string { return label(p.Lang, "reason."+reason) }

// Action is an action's label.
func (p page) Action(action string) string { return label(p.Lang, "action."+action) }
