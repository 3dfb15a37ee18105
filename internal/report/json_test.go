package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/frontpayment/fpexport/internal/money"
)

func writeJSON(t *testing.T, r *Report) ([]byte, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decode: %v\n%s", err, buf.Bytes())
	}
	if dec.More() {
		t.Fatal("trailing data after the JSON object")
	}
	return buf.Bytes(), doc
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	data, doc := writeJSON(t, b.report)
	text := string(data)

	for _, want := range []string{
		`"grand_total":4500.00,"grand_total_ore":450000`,
		`"grand_total":100.10,"grand_total_ore":10010`,
		`"grand_total":0.01,"grand_total_ore":1`,
		`"payment_url":"https://pay.example/o?id=1&lang=no"`,
		`"customer_name":"=HYPERLINK(\"http://evil.example/x?a=1\",\"Klikk her\")"`,
		`"fp_status":"PARTIAL REFUNDED"`,
		`"status_at":"2026-03-30T12:00:00+02:00"`,
		`"imported_at":"2026-03-10T09:00:00+01:00"`,
		`"status_at":null`,
		`"total":4723.55,"total_ore":472355`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("JSON does not contain %s", want)
		}
	}

	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"batches", "exceptions", "from", "generated_at", "groups", "orders", "status_summary", "summary", "to", "totals", "vat"}; !slices.Equal(keys, want) {
		t.Errorf("keys = %q, want %q", keys, want)
	}
	if doc["from"] != "2026-03-01" || doc["to"] != "2026-03-31" {
		t.Errorf("period = %v – %v", doc["from"], doc["to"])
	}
	if at, err := time.Parse(time.RFC3339, doc["generated_at"].(string)); err != nil || !at.Equal(b.report.GeneratedAt) {
		t.Errorf("generated_at = %v (%v), want %v", doc["generated_at"], err, b.report.GeneratedAt)
	}

	orders := doc["orders"].([]any)
	if len(orders) != len(b.report.Orders) {
		t.Fatalf("%d orders, want %d", len(orders), len(b.report.Orders))
	}
	var sum int64
	for i, o := range orders {
		m := o.(map[string]any)
		ore, err := m["grand_total_ore"].(json.Number).Int64()
		if err != nil {
			t.Fatal(err)
		}
		if ore != b.report.Orders[i].GrandTotal {
			t.Errorf("order %d grand_total_ore = %d, want %d", i, ore, b.report.Orders[i].GrandTotal)
		}
		if got, want := m["grand_total"].(json.Number).String(), money.Amount(ore).NOK(); got != want {
			t.Errorf("order %d grand_total = %s, want %s", i, got, want)
		}
		sum += ore
		if len(m) != 34 {
			t.Errorf("order %d has %d keys, want 34", i, len(m))
		}
	}

	var summed int64
	for _, s := range doc["summary"].([]any) {
		n, _ := s.(map[string]any)["total_ore"].(json.Number).Int64()
		summed += n
	}
	if summed != b.sumOre || sum != b.sumOre {
		t.Errorf("summary adds up to %d øre, orders to %d; want %d", summed, sum, b.sumOre)
	}

	exc := doc["exceptions"].([]any)
	if len(exc) != 5 {
		t.Fatalf("%d exceptions, want 5", len(exc))
	}
	if e := exc[4].(map[string]any); e["type"] != "provider_rejected" || e["order_ref"] != "A-4" {
		t.Errorf("last exception = %v", e)
	}
	if len(doc["batches"].([]any)) != 2 {
		t.Errorf("batches = %v", doc["batches"])
	}
}

func TestWriteJSONEmpty(t *testing.T) {
	t.Parallel()
	data, doc := writeJSON(t, &Report{Lang: "en", From: "2026-03-01", To: "2026-03-01"})
	for _, k := range []string{"summary", "orders", "exceptions", "batches"} {
		if a, ok := doc[k].([]any); !ok || len(a) != 0 {
			t.Errorf("%s = %v, want []", k, doc[k])
		}
	}
	if doc["generated_at"] != nil {
		t.Errorf("generated_at = %v, want null for a zero time", doc["generated_at"])
	}
	if !strings.Contains(string(data), `"orders":[]`) {
		t.Errorf("want \"orders\":[] in %s", data)
	}
}
