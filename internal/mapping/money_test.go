package mapping

import (
	"math/rand/v2"
	"testing"

	"github.com/frontpayment/fpexport/internal/fpclient"
)

func TestTotalsSeedExample(t *testing.T) {
	t.Parallel()
	// The checkout seed: 1 × 4500 at 12 % → subTotal 4017.86, totalTax 482.14.
	o := Order{Lines: []OrderLine{{Name: "Test Product", Quantity: 1000, Rate: 450000, TaxPercent: 12}}}
	got := o.Totals()
	want := Totals{SubTotal: 401786, TotalTax: 48214, TotalDiscount: 0, GrandTotal: 450000}
	if got.SubTotal != want.SubTotal || got.TotalTax != want.TotalTax || got.TotalDiscount != want.TotalDiscount || got.GrandTotal != want.GrandTotal {
		t.Errorf("Totals: got %s/%s/%s/%s, want 4017.86/482.14/0.00/4500.00",
			got.SubTotal.NOK(), got.TotalTax.NOK(), got.TotalDiscount.NOK(), got.GrandTotal.NOK())
	}
}

func TestLineTotals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		line OrderLine
		want LineTotals
	}{
		{"100.10 at 12 %", OrderLine{Quantity: 1000, Rate: 10010, TaxPercent: 12},
			LineTotals{Gross: 10010, Net: 8938, Tax: 1072, Amount: 10010}},
		{"25 %", OrderLine{Quantity: 2000, Rate: 12500, TaxPercent: 25},
			LineTotals{Gross: 25000, Net: 20000, Tax: 5000, Amount: 25000}},
		{"0 %", OrderLine{Quantity: 1000, Rate: 5100, TaxPercent: 0},
			LineTotals{Gross: 5100, Net: 5100, Tax: 0, Amount: 5100}},
		{"15 % half-up", OrderLine{Quantity: 1000, Rate: 1, TaxPercent: 15}, // 0.869… → 1
			LineTotals{Gross: 1, Net: 1, Tax: 0, Amount: 1}},
		{"quantity 1.5 rounds the gross", OrderLine{Quantity: 1500, Rate: 333, TaxPercent: 25}, // 4.995 → 5.00
			LineTotals{Gross: 500, Net: 400, Tax: 100, Amount: 500}},
		{"quantity 0.001", OrderLine{Quantity: 1, Rate: 49999, TaxPercent: 25}, // 0.49999 → 0.50
			LineTotals{Gross: 50, Net: 40, Tax: 10, Amount: 50}},
		{"discount", OrderLine{Quantity: 3000, Rate: 10000, Discount: 5000, TaxPercent: 25},
			LineTotals{Gross: 30000, Net: 24000, Tax: 6000, Discount: 5000, Amount: 25000}},
		{"largest line", OrderLine{Quantity: MaxQuantity, Rate: MaxRate, TaxPercent: 25},
			LineTotals{Gross: 1_000_000_000_000_000, Net: 800_000_000_000_000, Tax: 200_000_000_000_000, Amount: 1_000_000_000_000_000}},
	}
	for _, tt := range tests {
		if got := tt.line.Totals(); got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestTotalsInvariant: for random orders, every line's net is the correctly
// rounded net of its gross, and subTotal + totalTax − totalDiscount =
// grandTotal to the øre.
func TestTotalsInvariant(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	rates := DefaultTaxRates
	for i := 0; i < 20000; i++ {
		var o Order
		for n := 1 + r.IntN(8); n > 0; n-- {
			l := OrderLine{
				Quantity:   fpclient.Quantity(1 + r.Int64N(int64(pick(r, 1000, 100_000, int64(MaxQuantity))))),
				Rate:       fpclient.Amount(r.Int64N(int64(pick(r, 100, 1_000_000, int64(MaxRate))) + 1)),
				TaxPercent: rates[r.IntN(len(rates))],
			}
			if gross := lineGross(l.Quantity, l.Rate); gross > 0 && r.IntN(3) == 0 {
				l.Discount = fpclient.Amount(r.Int64N(int64(gross) + 1))
			}
			o.Lines = append(o.Lines, l)
		}
		tot := o.Totals()
		if tot.SubTotal+tot.TotalTax-tot.TotalDiscount != tot.GrandTotal {
			t.Fatalf("order %+v: %s + %s − %s ≠ %s", o.Lines, tot.SubTotal.NOK(), tot.TotalTax.NOK(), tot.TotalDiscount.NOK(), tot.GrandTotal.NOK())
		}
		for j, lt := range tot.Lines {
			l := o.Lines[j]
			// |net × (100+tax) − gross × 100| ≤ (100+tax)/2: net is the nearest øre.
			d := int64(lt.Net)*int64(100+l.TaxPercent) - int64(lt.Gross)*100
			if 2*abs(d) > int64(100+l.TaxPercent) {
				t.Fatalf("line %+v: net %s is not the rounded net of %s", l, lt.Net.NOK(), lt.Gross.NOK())
			}
			if lt.Net+lt.Tax != lt.Gross || lt.Gross-lt.Discount != lt.Amount || lt.Tax < 0 || lt.Amount < 0 {
				t.Fatalf("line %+v: inconsistent %+v", l, lt)
			}
			// gross is quantity × rate to the nearest øre.
			e := int64(lt.Gross)*1000 - int64(l.Quantity)*int64(l.Rate)
			if 2*abs(e) > 1000 {
				t.Fatalf("line %+v: gross %s is not round(quantity × rate)", l, lt.Gross.NOK())
			}
		}
	}
}

func pick(r *rand.Rand, xs ...int64) int64 { return xs[r.IntN(len(xs))] }

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestCheckedTotal(t *testing.T) {
	t.Parallel()
	big := OrderLine{Quantity: MaxQuantity, Rate: MaxRate}
	if _, err := checkedTotal([]OrderLine{big}); err == nil {
		t.Error("checkedTotal of a line above MaxGrandTotal: got nil, want an error")
	}
	many := make([]OrderLine, 10000)
	for i := range many {
		many[i] = OrderLine{Quantity: 1000, Rate: MaxRate}
	}
	if _, err := checkedTotal(many); err == nil {
		t.Error("checkedTotal of 10000 × MaxRate: got nil, want an error")
	}
	for _, l := range []OrderLine{
		{Quantity: 0, Rate: 100}, {Quantity: 1000, Rate: -1}, {Quantity: 1000, Rate: 100, Discount: 101},
		{Quantity: 1000, Rate: 100, TaxPercent: 101}, {Quantity: MaxQuantity + 1, Rate: 1},
	} {
		if _, err := checkedTotal([]OrderLine{l}); err == nil {
			t.Errorf("checkedTotal(%+v): got nil, want an error", l)
		}
	}
	if got, err := checkedTotal([]OrderLine{{Quantity: 2000, Rate: 100, Discount: 50}}); err != nil || got != 150 {
		t.Errorf("checkedTotal: got %d, %v, want 150", got, err)
	}
}
