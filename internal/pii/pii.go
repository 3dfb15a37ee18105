// Package pii hides personal data where it is shown: reports, logs, pages.
package pii

// MaskPersonalNumber keeps a Norwegian personal number's birth date (its
// first six digits) and hides the five personal digits, the part that makes
// it identify a person: "01019012345" → "010190*****". Anything that is not
// 11 characters is hidden whole, since it cannot be told apart from a
// number written differently; "" stays "".
func MaskPersonalNumber(s string) string {
	switch {
	case s == "":
		return ""
	case len(s) == 11:
		return s[:6] + "*****"
	default:
		return "***********"
	}
}

// MaskShortPersonalNumber masks a personal number read without its leading
// zero (Excel shows 02908823470 as 2908823470) as MaskPersonalNumber masks
// the whole number: what is left of the birth date is kept, the five
// personal digits hidden: "2908823470" → "29088*****". Anything else is
// masked by MaskPersonalNumber.
func MaskShortPersonalNumber(s string) string {
	if len(s) == 10 {
		return s[:5] + "*****"
	}
	return MaskPersonalNumber(s)
}
