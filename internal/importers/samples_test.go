package importers

import (
	"path/filepath"
	"slices"
	"testing"
)

// canonicalHeader is the input format documented in samples/README.md.
var canonicalHeader = []string{
	"order_ref", "kind", "customer_type", "customer_name", "email", "country_code", "msisdn",
	"personal_number", "organization_id", "street", "zip", "city", "country", "preferred_language",
	"product_id", "product_name", "quantity", "rate", "discount", "tax", "order_date", "due_date",
	"payment_method", "reference_no", "customer_reference", "send_sms", "send_email", "invoice_fee",
}

func TestSamples(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file           string
		rows, orders   int
		lastRow        int
		invalidNumbers []string // order refs whose personal or organisation number is meant to be wrong
	}{
		{"orders.csv", 18, 12, 19, []string{"SO-1012"}},
		{"orders.xlsx", 11, 8, 12, []string{"XO-2002"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			s, err := ReadFile(filepath.Join("..", "..", "samples", tc.file), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.Header, canonicalHeader) {
				t.Errorf("header\n got %q\nwant %q", s.Header, canonicalHeader)
			}
			if len(s.Rows) != tc.rows || s.Rows[len(s.Rows)-1].Number != tc.lastRow {
				t.Errorf("got %d rows ending at %d, want %d ending at %d", len(s.Rows), s.Rows[len(s.Rows)-1].Number, tc.rows, tc.lastRow)
			}
			col := func(name string) int { return slices.Index(s.Header, name) }
			refs := map[string]bool{}
			for _, r := range s.Rows {
				ref := r.Cells[col("order_ref")]
				refs[ref] = true
				pn, org := r.Cells[col("personal_number")], r.Cells[col("organization_id")]
				valid := (pn == "" || validPersonalNumber(pn)) && (org == "" || validOrganizationNumber(org)) &&
					(r.Cells[col("customer_type")] != "corporate" || org != "")
				if want := !slices.Contains(tc.invalidNumbers, ref); valid != want {
					t.Errorf("row %d (%s): personal %q, organisation %q: valid %v, want %v", r.Number, ref, pn, org, valid, want)
				}
			}
			if len(refs) != tc.orders {
				t.Errorf("got %d orders, want %d", len(refs), tc.orders)
			}
		})
	}
}

// validPersonalNumber checks the two mod-11 control digits of a fødselsnummer.
func validPersonalNumber(s string) bool {
	if len(s) != 11 {
		return false
	}
	d := make([]int, 11)
	for i := range s {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		d[i] = int(s[i] - '0')
	}
	k1 := control(d[:9], []int{3, 7, 6, 1, 8, 9, 4, 5, 2})
	k2 := control(d[:10], []int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2})
	return k1 == d[9] && k2 == d[10]
}

func validOrganizationNumber(s string) bool {
	if len(s) != 9 {
		return false
	}
	d := make([]int, 9)
	for i := range s {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		d[i] = int(s[i] - '0')
	}
	return control(d[:8], []int{3, 2, 7, 6, 5, 4, 3, 2}) == d[8]
}

// control is the mod-11 control digit, or -1 where none exists (10).
func control(d, weights []int) int {
	sum := 0
	for i, w := range weights {
		sum += d[i] * w
	}
	switch k := 11 - sum%11; k {
	case 11:
		return 0
	case 10:
		return -1
	default:
		return k
	}
}
