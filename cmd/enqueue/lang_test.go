package main

import (
	"strings"
	"testing"
)

// A Norwegian file: the reasons come in bokmål by default, name the file's
// own headers, and a value the order's kind does not use is a warning (the
// order is enqueued) unless --strict.
func TestNorwegianByDefault(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const norsk = "Ordrenummer,Kundetype,Kundenavn,E-post,Mobil,Fødselsnummer,Adresse,Postnummer,Sted,Land,Produkt,Antall,Pris,Mva,Kundereferanse,Type\n" +
		"H-1,privat,Kari Nordmann,kari@example.no,465 67 468,,Gate 1,358,Oslo,NO,Vare,1,100,25,KUNDE-7,hosted-checkout\n" +
		"H-2,privat,Ola Nordmann,ola@,46567469,,Gate 2,0150,Oslo,NO,Vare,1,100,25,,hosted-checkout\n"
	path := e.file(t, "ordrer.csv", norsk)
	code, out := e.runEnv(t, map[string]string{"LANG": "C.UTF-8"}, "--dry-run", path)
	if code != exitRejected {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		"ordrer.csv rad 3, kolonne E-post («ola@»): ikke en gyldig e-postadresse",
		"advarsel: ordrer.csv rad 2, kolonne Kundereferanse («KUNDE-7»): hosted-checkout-ordrer bruker ikke denne kolonnen",
		"kolonne Postnummer («358»): leste «358», sender «0358»",
		"kolonne Mobil («465 67 468»): leste «465 67 468», sender «+47 46567468»",
		"1 valid orders",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "zip") || strings.Contains(out, "customer_reference") {
		t.Errorf("output names internal column keys:\n%s", out)
	}

	_, out = e.runEnv(t, map[string]string{"LANG": "nb_NO.UTF-8"}, "--dry-run", "--lang", "en", path)
	if !strings.Contains(out, `ordrer.csv row 3, column E-post ("ola@"): not a valid e-mail address`) {
		t.Errorf("--lang en:\n%s", out)
	}

	_, out = e.runEnv(t, map[string]string{"LANG": "C"}, "--dry-run", "--strict", path)
	if !strings.Contains(out, "0 valid orders") || strings.Contains(out, "advarsel:") {
		t.Errorf("--strict: want the warned order refused:\n%s", out)
	}
	// A header without a required column: the reason in bokmål too.
	bad := e.file(t, "uten-pris.csv", "Ordrenummer,Kundenavn,Pris eks. mva\nA-1,Kari,100\n")
	if code, out := e.runEnv(t, map[string]string{"LANG": "C"}, "--dry-run", bad); code != exitFatal ||
		!strings.Contains(out, "uten-pris.csv: overskriftsraden: mangler påkrevde kolonner:") ||
		!strings.Contains(out, "«Pris eks. mva» leses ikke som rate: en pris uten mva") {
		t.Errorf("header error: exit %d\n%s", code, out)
	}
	if code, out := e.runEnv(t, nil, "--lang", "fr", path); code != exitFatal || !strings.Contains(out, "--lang") {
		t.Errorf("--lang fr: exit %d\n%s", code, out)
	}
}
