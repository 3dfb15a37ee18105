package report

import (
	"testing"

	"github.com/frontpayment/fpexport/internal/orderstate"
)

// Every label, status, kind, group and exception type has a text in both
// languages, so neither shows a bare code or key.
func TestEveryNameInBothLanguages(t *testing.T) {
	t.Parallel()
	for key, texts := range labels {
		if texts[0] == "" || texts[1] == "" {
			t.Errorf("label %q: %q", key, texts)
		}
	}
	codes := []string{"invoice", "payment-link", "hosted-checkout", "checkout", "possible_duplicate",
		ExceptionRejectedRow, ExceptionUntrustedCallback, ExceptionOrphanCallback, ExceptionPaymentLinkOverdue, ExceptionNoCallback}
	for _, s := range orderstate.All {
		codes = append(codes, string(s))
		if rank(statusOrder, string(s)) == len(statusOrder) {
			t.Errorf("status %s is not in statusOrder", s)
		}
	}
	for _, c := range codes {
		for _, lang := range Langs {
			if n := Name(lang, c); n == "" || (n == c && lang == "nb") {
				t.Errorf("%s has no %s name (%q)", c, lang, n)
			}
		}
	}
	for _, g := range groupOrder {
		if _, ok := groupNames[g]; !ok || GroupName("nb", g) == g {
			t.Errorf("group %s has no name", g)
		}
	}
	for _, c := range orderColumns {
		if label("nb", c.key) == c.key {
			t.Errorf("column %s has no label", c.key)
		}
	}
}
