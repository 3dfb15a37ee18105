package web

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/frontpayment/fpexport/internal/importers"
	"github.com/frontpayment/fpexport/internal/intake"
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

// A batch imported elsewhere (enqueue, inbox, ERP) gets the same error file
// from the page: the whole rows, in the input's format, the reasons in the
// page's language; once a later import fixes the row, the page shows it
// fixed and counts no open rejection.
func TestStoredErrorFileAndResolution(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.client(t)
	c.mustLogin()
	ctx := context.Background()
	dir := t.TempDir()
	in := filepath.Join(dir, "libreoffice.xlsx")
	raw, err := os.ReadFile(filepath.Join("..", "intake", "testdata", "libreoffice.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	commit := func(path string) int64 {
		t.Helper()
		f, err := intake.Open(path, intake.Settings{AllowTestIDs: true}.Options(time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		res, err := intake.Commit(ctx, b.pool, b.h.cfg.River, []*intake.File{f}, intake.CommitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Batches[0].BatchID
	}
	first := commit(in)
	resp, body := c.get(fmt.Sprintf("/web/batches/%d/errors", first))
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "libreoffice.errors.xlsx") {
		t.Fatalf("error file: %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	errFile := filepath.Join(dir, "libreoffice.errors.xlsx")
	if err := os.WriteFile(errFile, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := importers.ReadFile(errFile, importers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rows) != 1 || s.Header[0] != "errors" || !strings.Contains(s.Rows[0].Cells[0], "E-post: ikke en gyldig e-postadresse") ||
		s.Rows[0].Cells[slices.Index(s.Header, "Fødselsnummer")] != "02908823470" {
		t.Fatalf("stored error file: %q %v", s.Header, s.Rows)
	}

	// The accountant fixes the cell and imports the error file as it is.
	x, err := excelize.OpenFile(errFile)
	if err != nil {
		t.Fatal(err)
	}
	cells, _ := x.SearchSheet("errors", "ola@")
	if len(cells) != 1 {
		t.Fatalf("finding the e-mail cell: %v", cells)
	}
	x.SetCellStr("errors", cells[0], "ola@example.no")
	if err := x.Save(); err != nil {
		t.Fatal(err)
	}
	x.Close()
	second := commit(errFile)
	_, page := c.get(fmt.Sprintf("/web/batches/%d", first))
	if !strings.Contains(page, `<dd id="rejected-open">0</dd>`) || !strings.Contains(page, fmt.Sprintf("rettet i import %d", second)) {
		t.Errorf("batch page after the fix:\n%s", page)
	}
}
