package web

import (
	"net/http"
	"strings"
	"testing"
)

// The dry run shows a repaired personal number masked, in the value column
// and in the reason, as a warning and (strict) as an error.
func TestDryRunMasksRepairedPersonalNumber(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.client(t)
	csrf := c.mustLogin()
	file := []byte("Ordrenummer,Type,Kundetype,Kundenavn,E-post,Mobil,Fødselsnummer,Adresse,Postnummer,Sted,Land,Produkt,Antall,Pris,Mva\n" +
		"F-1,faktura,privat,Kari Nordmann,kari@example.no,+47 46567468,1010012356,Gate 1,0150,Oslo,NO,Vare,1,100,25\n")
	for _, strict := range []bool{false, true} {
		resp, body := c.upload(csrf, "", "", "ordrer.csv", file)
		if strict {
			resp, body = c.uploadStrict(csrf, "ordrer.csv", file)
		}
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "1010012356") ||
			!strings.Contains(body, "10100*****") || !strings.Contains(body, "010100*****") {
			t.Errorf("strict %v: %d, want the repair shown masked\n%s", strict, resp.StatusCode, body)
		}
	}
}
