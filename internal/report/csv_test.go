package report

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
)

func readCSV(t *testing.T, data []byte, comma rune) [][]string {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF"))))
	cr.Comma = comma
	records, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("read back CSV: %v", err)
	}
	return records
}

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, b.report, ';'); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	data := buf.Bytes()
	if !bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatalf("no UTF-8 BOM: % x", data[:min(len(data), 8)])
	}
	firstLine, _, _ := strings.Cut(string(data[3:]), "\r\n")
	if want := "Batch;File;Row;Order ref;Kind;Customer;Personal number;Order date;Due date;Net (NOK);VAT (NOK);Discount (NOK);Grand total (NOK);Paid amount (NOK);Paid at;Refunded amount (NOK);FP order;Status;FP status;Status at;Imported at;Submitted at;Attempts;Last error;Exception;Payment URL"; firstLine != want {
		t.Errorf("header line = %q, want %q", firstLine, want)
	}

	records := readCSV(t, data, ';')
	if got, want := len(records), 1+len(b.report.Orders); got != want {
		t.Fatalf("%d records, want %d", got, want)
	}
	var header []string
	for _, c := range orderColumns {
		header = append(header, label("en", c.key))
	}
	if !slices.Equal(records[0], header) {
		t.Errorf("header = %q, want the Orders sheet's %q", records[0], header)
	}

	for _, tc := range []struct {
		row, col int
		want     string
	}{
		{1, 12, "4500,00"}, // decimal comma for ';'
		{2, 12, "100,10"},
		{4, 12, "0,99"},
		{3, 5, "'" + evilCustomer}, // formula neutralised
		{6, 5, "'@Bedrift AS"},
		{4, 3, "'-42"},
		{4, 5, splitName},              // ';', quotes and newline survive quoting
		{3, 18, "REMINDER SENT"},       // unknown FP status as FP wrote it
		{1, 19, "2026-03-30 12:00:00"}, // Oslo summer time
		{1, 20, "2026-03-10 09:00:00"}, // Oslo winter time
		{4, 20, "2026-03-31 23:59:59"},
		{4, 19, ""}, // nil time
		{4, 21, ""},
		{1, 25, "https://pay.example/o?id=1&lang=no"},
		{2, 24, "needs review"},
	} {
		if got := records[tc.row][tc.col]; got != tc.want {
			t.Errorf("record %d %q = %q, want %q", tc.row, header[tc.col], got, tc.want)
		}
	}

	// The raw text quotes the multi-line, semicolon name and doubles its quotes.
	if want := "\"Semi; colon \"\"quoted\"\"\r\nsecond line\""; !strings.Contains(string(data), want) {
		t.Errorf("CSV does not contain %q", want)
	}
}

func TestWriteCSVComma(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, b.report, ','); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	records := readCSV(t, buf.Bytes(), ',')
	if got := records[2][12]; got != "100.10" {
		t.Errorf("amount with ',' separator = %q, want 100.10", got)
	}
	if got := records[4][5]; got != splitName {
		t.Errorf("customer = %q, want %q", got, splitName)
	}
}

func TestWriteCSVBadComma(t *testing.T) {
	t.Parallel()
	b := setup(t)
	if err := WriteCSV(&bytes.Buffer{}, b.report, '"'); err == nil {
		t.Error(`WriteCSV with comma '"' succeeded, want an error`)
	}
}

func TestCSVText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                 "",
		"Ola":              "Ola",
		"=1+1":             "'=1+1",
		"+4746567468":      "'+4746567468",
		"-1":               "'-1",
		"@SUM(A1)":         "'@SUM(A1)",
		"\t=1":             "'\t=1",
		"\r=1":             "'\r=1",
		"a=1":              "a=1",
		" =1":              " =1",
		"'already":         "'already",
		"Ærlig Øl & Ål AS": "Ærlig Øl & Ål AS",
	} {
		if got := csvText(in); got != want {
			t.Errorf("csvText(%q) = %q, want %q", in, got, want)
		}
	}
}
