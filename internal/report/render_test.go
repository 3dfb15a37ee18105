package report

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestRenderXLSX writes a sample report (two batches, every kind and
// status, exceptions of every type, Norwegian names) and has LibreOffice
// print it to PDF and poppler turn the pages into PNGs, to look at:
//
//	REPORT_RENDER=1 go test -run TestRenderXLSX -v ./internal/report/
//
// The files go to internal/report/render/ (git-ignored). It needs
// soffice (Debian: libreoffice-calc-nogui) and pdftoppm (poppler-utils).
func TestRenderXLSX(t *testing.T) {
	if os.Getenv("REPORT_RENDER") == "" {
		t.Skip("set REPORT_RENDER=1 to render the sample report to PDF and PNG")
	}
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		t.Skip("soffice not found: install libreoffice-calc-nogui to render the report")
	}
	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Skip("pdftoppm not found: install poppler-utils to render the report")
	}
	dir, err := filepath.Abs("render")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	xlsx := filepath.Join(dir, "reconciliation-sample.xlsx")
	if _, err := WriteFile(xlsx, sampleReport(), "xlsx"); err != nil {
		t.Fatal(err)
	}
	// A profile of its own, so that a LibreOffice already running (or a
	// parallel render) does not swallow the conversion.
	profile := "-env:UserInstallation=file://" + filepath.Join(t.TempDir(), "lo-profile")
	cmd := exec.Command(soffice, profile, "--headless", "--convert-to", "pdf", "--outdir", dir, xlsx)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	pdf := filepath.Join(dir, "reconciliation-sample.pdf")
	if out, err := exec.Command(pdftoppm, "-png", "-r", "80", pdf, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page-*.png"))
	if len(pages) == 0 {
		t.Fatal("no pages rendered")
	}
	t.Logf("%s → %d pages: %s", pdf, len(pages), filepath.Join(dir, "page-*.png"))
}

// sampleReport is a realistic small report: what finance would see on an
// ordinary day with a few problems.
func sampleReport() *Report {
	oslo, _ := time.LoadLocation("Europe/Oslo")
	at := func(h, m int) time.Time { return time.Date(2026, 3, 10, h, m, 0, 0, oslo) }
	ptr := func(t time.Time) *time.Time { return &t }
	names := []string{"Kari Nordmann", "Ola Østby", "Fjordbåt Ærlig Øl AS", "Åse Bråten", "Bjørn Sæther", "Trøndersk Kaffebrenneri AS",
		"Siri Lægreid", "Håkon Øvrebø", "Nordlys Sjømat AS", "Ingrid Mæland"}
	kinds := []string{"invoice", "payment-link", "hosted-checkout", "checkout"}
	statuses := []string{"paid", "paid", "sent", "paid", "submitted", "cancelled", "paid", "needs_review", "provider_rejected", "expired"}
	fp := map[string]string{"paid": "PAID", "sent": "SENT", "cancelled": "CANCELLED", "expired": "EXPIRED"}
	r := &Report{From: "2026-03-10", To: "2026-03-10", GeneratedAt: at(30, 0)}
	for i := range 36 {
		batch := int64(i/20 + 1)
		status := statuses[i%len(statuses)]
		o := Order{
			BatchID: batch, Source: fmt.Sprintf("ordrer-mars-%d.xlsx", batch), SourceRow: i%20 + 2,
			OrderRef: fmt.Sprintf("2026-%05d", 1400+i), Kind: kinds[i%len(kinds)], CustomerName: names[i%len(names)],
			GrandTotal: int64(i*73_519%2_500_000 + 9_900), Status: status, FPStatus: fp[status],
			ImportedAt: at(7, 30+i/20), Attempts: 1,
		}
		if i%3 != 2 {
			o.PersonalNumber = fmt.Sprintf("%02d0385%05d", i%28+1, 10000+i*37)
		}
		if status != "provider_rejected" {
			o.FPOrderUUID = fmt.Sprintf("ODR%010d", 4_000_000+i*7)
			o.SubmittedAt = ptr(at(7, 31+i/20))
			o.StatusAt = ptr(at(9+i%8, i%60))
		}
		if o.Kind == "payment-link" {
			o.PaymentURL = "https://pay.frontpayment.no/p/" + o.FPOrderUUID
		}
		switch status {
		case "needs_review":
			o.Exception, o.LastError, o.Attempts = "needs_review", "no answer after the request was written (timeout after 30s)", 2
		case "provider_rejected":
			o.Exception, o.LastError = "provider_rejected", "The customer details.email must be a valid email address."
		}
		if i == 13 {
			o.Exception = "possible_duplicate"
		}
		if i == 21 {
			o.CustomerName = `=HYPERLINK("http://evil.example","Klikk her")`
		}
		r.Orders = append(r.Orders, o)
	}
	r.Rejected = []Rejected{
		{BatchID: 1, Source: "ordrer-mars-1.xlsx", Row: 23, Column: "Beløp", Value: "12,3,4", Reason: "not an amount"},
		{BatchID: 2, Source: "ordrer-mars-2.xlsx", Row: 19, Column: "E-post", Value: "kari@", Reason: "not an e-mail address"},
	}
	r.Other = []Exception{
		{Type: ExceptionUntrustedCallback, Source: "203.0.113.7", Detail: `bad_token: received 2026-03-10 11:02:13 (Europe/Oslo) from 203.0.113.7; orderUuid "ODR0004000014", status "PAID"`},
		{Type: ExceptionOrphanCallback, Source: "192.0.2.44", Detail: `orphan: received 2026-03-10 12:40:00 (Europe/Oslo) from 192.0.2.44; orderUuid "ODR0003999001", status "PAID"`},
		{Type: ExceptionPaymentLinkOverdue, BatchID: 1, Source: "ordrer-mars-1.xlsx", Row: 3, OrderRef: "2026-01401", Detail: "due 2026-03-08, status sent"},
		{Type: ExceptionNoCallback, BatchID: 1, Source: "ordrer-mars-1.xlsx", Row: 6, OrderRef: "2026-01404", Detail: "submitted 2026-03-06 07:31 (Europe/Oslo), no callback from FP in 72h0m0s; status submitted"},
	}
	for b := int64(1); b <= 2; b++ {
		bt := Batch{ID: b, Source: fmt.Sprintf("ordrer-mars-%d.xlsx", b), SHA256: fmt.Sprintf("%016x", b*0x1f86d081884c7d65) + "c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a089f86d081884c7d659a2feaa0",
			ImportedAt: at(7, 30+int(b)-1), Rejected: 1}
		for _, o := range r.Orders {
			if o.BatchID == b {
				bt.Orders++
				bt.Total += o.GrandTotal
				if o.SubmittedAt != nil {
					bt.Submitted++
				}
				if o.Status == "paid" {
					bt.Paid++
				}
			}
		}
		bt.Rows = bt.Orders + bt.Rejected
		r.Batches = append(r.Batches, bt)
	}
	return r
}
