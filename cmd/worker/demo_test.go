package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/frontpayment/fpexport/internal/testdb"
)

// TestDemo runs `worker demo` on the real samples, as a newcomer would, and
// then again: the second run sends nothing.
func TestDemo(t *testing.T) {
	t.Parallel()
	url := testdb.URL(t)
	reports := t.TempDir()
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return url
		}
		if k == "FP_RATE_LIMIT" {
			return "0"
		}
		return ""
	}
	var out, errOut bytes.Buffer
	args := []string{"demo", "-samples", "../../samples", "-reports", reports, "-timeout", "2m"}
	if err := run(context.Background(), args, getenv, &out, &errOut); err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	text := out.String()
	for _, want := range []string{"orders.csv:", "orders.xlsx:", "rejected rows:", "total", "FP simulator created"} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "warning:") {
		t.Errorf("demo did not settle:\n%s", text)
	}
	path := filepath.Join(reports, "reconciliation-"+time.Now().In(oslo(t)).Format(time.DateOnly)+".xlsx")
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	defer f.Close()
	if got := strings.Join(f.GetSheetList(), ","); got != "Sammendrag,Ordrer,MVA,Avvik,Filer" {
		t.Errorf("sheets = %s", got)
	}

	out.Reset()
	if err := run(context.Background(), args, getenv, &out, &errOut); err != nil {
		t.Fatalf("second demo: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "FP simulator created 0 orders") || !strings.Contains(out.String(), "imported before") {
		t.Errorf("second run sent orders again:\n%s", out.String())
	}
}

func oslo(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
