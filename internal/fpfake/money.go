package fpfake

import (
	"fmt"
	"math/big"
)

// checkMoney checks that the order adds up, by the seeds' own definitions:
// a line's amount is its "total amount" (quantity × rate − discount), subTotal
// is "before tax and discount", so
//
//	products.*.amount          = round(quantity × rate) − discount
//	orderSummary.grandTotal    = Σ amount + shippingCost
//	orderSummary.totalDiscount = Σ discount
//	subTotal + totalTax − totalDiscount + shippingCost = grandTotal
//
// all to the øre. The only rounding allowed is of quantity × rate to the øre
// (half away from zero, as PHP's round); no further tolerance. FP's table does
// not say how totalTax splits from subTotal per line, so only their sum is
// checked. shippingCost is documented for checkout sessions only: for the
// other kinds FP ignores it, so it does not count (an integrator who sends it
// there and adds it to grandTotal would be charged differently than he thinks).
//
// The check runs only when every number it needs parsed; otherwise the field
// rules have already said what is wrong.
func checkMoney(doc any, withShipping bool) []FieldError {
	products, _ := lookup(doc, "products")
	keys, ok := listKeys(products)
	if !ok || len(keys) == 0 {
		return nil
	}
	var errs []FieldError
	sumAmount, sumDiscount := new(big.Int), new(big.Int)
	for _, k := range keys {
		p := "products." + k
		q, okQ := number(val(doc, p+".quantity"))
		r, okR := number(val(doc, p+".rate"))
		a, okA := number(val(doc, p+".amount"))
		d, okD := optionalNumber(doc, p+".discount")
		if !okQ || !okR || !okA || !okD {
			return nil
		}
		want := cents(new(big.Rat).Mul(q, r))
		want.Sub(want, cents(d))
		got := cents(a)
		if got.Cmp(want) != 0 {
			errs = append(errs, FieldError{Field: p + ".amount", Message: fmt.Sprintf(
				"The %s.amount must be %s (quantity * rate - discount).", p, nok(want))})
		}
		sumAmount.Add(sumAmount, got)
		sumDiscount.Add(sumDiscount, cents(d))
	}

	sub, ok1 := number(val(doc, "orderSummary.subTotal"))
	tax, ok2 := number(val(doc, "orderSummary.totalTax"))
	disc, ok3 := number(val(doc, "orderSummary.totalDiscount"))
	grand, ok4 := number(val(doc, "orderSummary.grandTotal"))
	ship, ok5 := new(big.Rat), true
	if withShipping {
		ship, ok5 = optionalNumber(doc, "orderSummary.shippingCost")
	}
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return errs
	}
	g, s := cents(grand), cents(ship)
	if want := new(big.Int).Add(sumAmount, s); g.Cmp(want) != 0 {
		errs = append(errs, FieldError{Field: "orderSummary.grandTotal", Message: fmt.Sprintf(
			"The order summary.grand total must be %s (the sum of the product amounts plus shipping cost).", nok(want))})
	}
	if cents(disc).Cmp(sumDiscount) != 0 {
		errs = append(errs, FieldError{Field: "orderSummary.totalDiscount", Message: fmt.Sprintf(
			"The order summary.total discount must be %s (the sum of the product discounts).", nok(sumDiscount))})
	}
	total := new(big.Int).Add(cents(sub), cents(tax))
	total.Sub(total, cents(disc))
	total.Add(total, s)
	if total.Cmp(g) != 0 {
		errs = append(errs, FieldError{Field: "orderSummary.subTotal", Message: fmt.Sprintf(
			"The order summary.sub total + total tax - total discount + shipping cost must equal the grand total (%s, not %s).", nok(g), nok(total))})
	}
	return errs
}

func val(doc any, path string) any {
	v, _ := lookup(doc, path)
	return v
}

// optionalNumber reads a nullable numeric field: empty counts as zero.
func optionalNumber(doc any, path string) (*big.Rat, bool) {
	v := val(doc, path)
	if isEmpty(v) {
		return new(big.Rat), true
	}
	return number(v)
}

// cents rounds to whole øre, half away from zero.
func cents(r *big.Rat) *big.Int {
	x := new(big.Rat).Mul(r, big.NewRat(100, 1))
	num := new(big.Int).Abs(x.Num())
	q, m := new(big.Int).QuoRem(num, x.Denom(), new(big.Int))
	if m.Lsh(m, 1).Cmp(x.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if x.Sign() < 0 {
		q.Neg(q)
	}
	return q
}

// nok formats øre as "4500.00".
func nok(c *big.Int) string {
	sign := ""
	v := new(big.Int).Set(c)
	if v.Sign() < 0 {
		sign = "-"
		v.Neg(v)
	}
	q, m := new(big.Int).QuoRem(v, big.NewInt(100), new(big.Int))
	return fmt.Sprintf("%s%s.%02d", sign, q, m.Int64())
}
