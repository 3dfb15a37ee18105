package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A personal number repaired (its lost leading zero put back) is shown
// masked in enqueue's output, as the value read and as the value sent; the
// error file, which holds the row to fix, keeps it whole.
func TestRepairedPersonalNumberMasked(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const rows = "Ordrenummer,Kundetype,Kundenavn,E-post,Mobil,Fødselsnummer,Adresse,Postnummer,Sted,Land,Produkt,Antall,Pris,Mva,Type\n" +
		"F-1,privat,Kari Nordmann,kari@example.no,+47 46567468,2908823470,Gate 1,0358,Oslo,NO,Vare,1,100,25,faktura\n"
	path := e.file(t, "ordrer.csv", rows)
	for _, lang := range []string{"nb", "en"} {
		code, out := e.run(t, "--dry-run", "--allow-test-ids", "--lang", lang, path)
		if code != exitOK || strings.Contains(out, "2908823470") ||
			!strings.Contains(out, "29088*****") || !strings.Contains(out, "029088*****") {
			t.Errorf("--lang %s: exit %d, want the repair shown masked:\n%s", lang, code, out)
		}
	}

	errFile := filepath.Join(e.dir, "feil.csv")
	code, out := e.run(t, "--dry-run", "--allow-test-ids", "--strict", "--errors-out", errFile, path)
	if code != exitRejected || strings.Contains(out, "2908823470") || !strings.Contains(out, "029088*****") {
		t.Errorf("--strict: exit %d, want the row rejected and the number masked:\n%s", code, out)
	}
	b, err := os.ReadFile(errFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `read ""2908823470"", sending ""02908823470""`) || !strings.Contains(string(b), ",02908823470,") {
		t.Errorf("the error file lost the full number:\n%s", b)
	}
}
