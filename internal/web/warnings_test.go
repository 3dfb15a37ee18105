package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// uploadStrict is upload with the Strict checkbox ticked.
func (c *client) uploadStrict(csrf, name string, content []byte) (*http.Response, string) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf)
	_ = mw.WriteField("strict", "1")
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.base+"/web/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

// The dry run shows warnings in the page's language beside the errors; the
// Strict checkbox refuses the warned order; no reason names a command-line
// flag, even the one for test numbers that this server does not accept.
func TestDryRunWarningsAndStrict(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.AllowTestIDs = false })
	c := b.client(t)
	csrf := c.mustLogin()
	file := []byte("Ordrenummer,Type,Kundetype,Kundenavn,E-post,Mobil,Fødselsnummer,Adresse,Postnummer,Sted,Land,Produkt,Antall,Pris,Mva,Kundereferanse\n" +
		"H-1,hosted-checkout,privat,Kari Nordmann,kari@example.no,46567468,,Gate 1,0150,Oslo,NO,Vare,1,100,25,KUNDE-7\n" +
		"F-1,faktura,privat,Ola Nordmann,ola@example.no,46567469,12838512311,Gate 2,0150,Oslo,NO,Vare,1,100,25,\n")
	c.get("/web/?lang=en")
	resp, body := c.upload(csrf, "", "", "mixed.csv", file)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("upload: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{
		`<dd id="dry-orders">1</dd>`, `id="warnings"`,
		"warning: hosted-checkout orders do not use this column; the order is sent without it",
		"<td>Kundereferanse</td>",
		"a synthetic test number from Skatteetaten&#39;s test register",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dry run page lacks %q\n%s", want, body)
		}
	}
	if strings.Contains(body, "--") {
		t.Errorf("the page names a command-line flag:\n%s", body)
	}
	resp, body = c.uploadStrict(csrf, "mixed.csv", file)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<dd id="dry-orders">0</dd>`) || strings.Contains(body, `id="warnings"`) ||
		!strings.Contains(body, "leave it empty (strict import)") {
		t.Errorf("strict: want the warned order refused\n%s", body)
	}
}
