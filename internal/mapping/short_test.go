package mapping

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/frontpayment/fpexport/internal/fpclient"
)

func TestShortValue(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("æ", 200)
	for in, want := range map[string]string{
		"":                      "",
		"kari@":                 "kari@",
		strings.Repeat("a", 80): strings.Repeat("a", 80),
		strings.Repeat("a", 81): strings.Repeat("a", 80) + "…",
		long:                    strings.Repeat("æ", 80) + "…",
	} {
		if got := ShortValue(in); got != want {
			t.Errorf("ShortValue(%d bytes) = %q, want %q", len(in), got, want)
		}
	}
}

// TestRejectedValueCut: a rejected cell of 30 KB is shown in 80 characters.
func TestRejectedValueCut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	huge := strings.Repeat("x", 30<<10) + "@"
	res := buildOrders([]Line{line(2, validFields(fpclient.KindInvoice, "private"), "email", huge)}, b.opt)
	if len(res.Errors) == 0 {
		t.Fatal("no error for the e-mail")
	}
	for _, e := range res.Errors {
		if utf8.RuneCountInString(e.Value) > ShortValueRunes+1 || len(e.Error()) > 400 {
			t.Errorf("value of %d bytes, message of %d bytes: %.200s", len(e.Value), len(e.Error()), e.Error())
		}
	}
	if want := `("` + strings.Repeat("x", 80) + `…")`; !strings.Contains(res.Errors[0].Error(), want) {
		t.Errorf("got %.200s, want it to show %s", res.Errors[0].Error(), want)
	}
}
