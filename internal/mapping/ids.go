package mapping

import (
	"github.com/frontpayment/fpexport/internal/msg"
	"strings"
	"time"
)

// Norwegian identity numbers. FP does not check their control digits; we do,
// because a typo in a personal or organisation number sends an invoice, a
// credit check or a debt-collection case to the wrong person or company.
//
// Personal number (fødselsnummer), DDMMYY III K1 K2:
//
//   - K1 = 11 − (3·d1 + 7·d2 + 6·m1 + 1·m2 + 8·y1 + 9·y2 + 4·i1 + 5·i2 + 2·i3) mod 11,
//     K2 = 11 − (5·d1 + 4·d2 + 3·m1 + 2·m2 + 7·y1 + 6·y2 + 5·i1 + 4·i2 + 3·i3 + 2·K1) mod 11;
//     11 becomes 0, and 10 means no number is ever issued with those digits.
//   - D-number (foreigners): the first digit is raised by 4 (day 41–71).
//     H-number (health services' help number): the month is raised by 40
//     (41–52). Both are real people's numbers and accepted. NAV's synthetic
//     test numbers (Dolly) also use month + 40 and cannot be told apart from
//     H-numbers, so they are accepted as H-numbers.
//   - Synthetic test numbers of Skatteetaten's Tenor test register have the
//     month raised by 80 (81–92). They never belong to a person, and are
//     accepted only when the import allows them (Options.
//     AllowSyntheticPersonalNumbers, the CLI's --allow-test-ids): a test
//     number in a production file is a mistake.
//   - The date of birth must be a calendar date. The individual number III
//     gives the century (000–499: 1900s; 500–749 with YY ≥ 54: 1800s;
//     500–999 with YY ≤ 39: 2000s; 900–999 with YY ≥ 40: 1900s); when it
//     gives none, the date is accepted if it is a date in the 1900s or the
//     2000s (only 29 February depends on it). A date in the future is not
//     checked: the mapping core has no clock of its own for this, and FP's
//     own check is the register.
//   - Skatteetaten's numbers issued from 2032 on relax K1 (k1Fits); they
//     are accepted alongside the classic rule.
//
// Organisation number (organisasjonsnummer), 8 digits and a control digit:
// K = 11 − (3,2,7,6,5,4,3,2 · d1…d8) mod 11, 11 → 0, 10 → never issued.
// Tenor's test organisations (numbers starting with 2 or 3, such as the
// samples' 31xxxxxxx) have valid control digits and are accepted.

var (
	personalWeights1 = [9]int{3, 7, 6, 1, 8, 9, 4, 5, 2}
	personalWeights2 = [10]int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}
	orgWeights       = [8]int{3, 2, 7, 6, 5, 4, 3, 2}
)

// mod11 is the control digit of digits (ASCII) with weights, or -1 when the
// remainder is 1 (no digit fits: such numbers are never issued).
func mod11(digits string, weights []int) int {
	sum := 0
	for i, w := range weights {
		sum += int(digits[i]-'0') * w
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

// k1Fits checks the first control digit. Classic rule: the weighted sum
// of the nine digits and K1 is divisible by 11. Numbers issued from 2032
// (Skatteetaten's "nytt fødselsnummer fra 2032") let that sum leave a
// remainder of 0, 1, 2 or 3, so one birth date and individual number can
// carry up to four K1 values; K2 is computed as before, over the K1
// written. Both rules are accepted: the new one contains the classic one.
// Nothing here, nor anywhere, reads a gender from the number: from 2032 the
// individual number no longer tells it.
func k1Fits(digits string) bool {
	sum := int(digits[9] - '0')
	for i, w := range personalWeights1 {
		sum += int(digits[i]-'0') * w
	}
	return sum%11 <= 3
}

// errSyntheticPersonalNumber is the reason a synthetic test number is
// refused when the import does not allow them.
var errSyntheticPersonalNumber = msg.Err("pnr.synthetic")

// PersonalNumberInfo says what kind of personal number a valid one is.
type PersonalNumberInfo struct {
	Birth     time.Time // date of birth (midnight UTC)
	DNumber   bool      // first digit + 4
	HNumber   bool      // month + 40 (also NAV's synthetic numbers)
	Synthetic bool      // month + 80: Skatteetaten's Tenor test numbers
}

// CheckPersonalNumber checks the 11 digits of a personal number: both
// control digits and the date of birth (D-, H- and synthetic numbers
// included). Whether a synthetic number is acceptable is the caller's
// decision (see ParsePersonalNumber).
func CheckPersonalNumber(digits string) (PersonalNumberInfo, error) {
	var info PersonalNumberInfo
	if len(digits) != 11 || !allDigits(digits) {
		return info, msg.Err("pnr.invalid")
	}
	k1ok := k1Fits(digits)
	k2ok := false
	if k1ok {
		k2 := mod11(digits, personalWeights2[:])
		k2ok = k2 >= 0 && k2 == int(digits[10]-'0')
	}
	switch {
	case !k1ok:
		return info, msg.Err("pnr.k1")
	case !k2ok:
		return info, msg.Err("pnr.k2")
	}

	day := int(digits[0]-'0')*10 + int(digits[1]-'0')
	month := int(digits[2]-'0')*10 + int(digits[3]-'0')
	yy := int(digits[4]-'0')*10 + int(digits[5]-'0')
	ind := int(digits[6]-'0')*100 + int(digits[7]-'0')*10 + int(digits[8]-'0')
	if day > 40 {
		info.DNumber, day = true, day-40
	}
	switch {
	case month > 80:
		info.Synthetic, month = true, month-80
	case month > 40:
		info.HNumber, month = true, month-40
	}
	var centuries []int
	switch {
	case ind <= 499:
		centuries = []int{1900}
	case ind <= 749 && yy >= 54:
		centuries = []int{1800}
	case ind >= 500 && yy <= 39:
		centuries = []int{2000}
	case ind >= 900 && yy >= 40:
		centuries = []int{1900}
	default:
		centuries = []int{1900, 2000}
	}
	for _, c := range centuries {
		y := c + yy
		t := time.Date(y, time.Month(month), day, 0, 0, 0, 0, time.UTC)
		if month >= 1 && month <= 12 && t.Year() == y && int(t.Month()) == month && t.Day() == day {
			info.Birth = t
			return info, nil
		}
	}
	return info, msg.Err("pnr.birth_date", digits[:6])
}

// ParsePersonalNumber reads a Norwegian personal number (fødselsnummer,
// D-number or H-number): 11 digits, spaces ignored, both mod-11 control
// digits and the date of birth checked. Skatteetaten's synthetic test
// numbers (month + 80) are accepted only with allowSynthetic.
func ParsePersonalNumber(raw string, allowSynthetic bool) (string, error) {
	s := removeSpaces(raw)
	if !allDigits(s) {
		return "", msg.Err("pnr.invalid")
	}
	if len(s) == 10 {
		return "", msg.Err("pnr.ten_digits")
	}
	if len(s) != 11 {
		return "", msg.Err("pnr.length", len(s))
	}
	info, err := CheckPersonalNumber(s)
	if err != nil {
		return "", err
	}
	if info.Synthetic && !allowSynthetic {
		return "", errSyntheticPersonalNumber
	}
	return s, nil
}

// ReadPersonalNumber is ParsePersonalNumber with one repair: 10 digits
// whose form with a leading 0 is a valid personal number are that number
// (Excel reads 02908823470 as the number 2908823470). It is the only
// reading: no other digit can be missing at the front and keep both
// control digits. repaired says the value returned is not the one written.
func ReadPersonalNumber(raw string, allowSynthetic bool) (v string, repaired bool, err error) {
	if s := removeSpaces(raw); len(s) == 10 && allDigits(s) {
		v, err := ParsePersonalNumber("0"+s, allowSynthetic)
		if err == nil || msg.Of(err).ID == "pnr.synthetic" {
			return v, err == nil, err
		}
	}
	v, err = ParsePersonalNumber(raw, allowSynthetic)
	return v, false, err
}

// CheckOrganizationID checks the mod-11 control digit of an organisation
// number's 9 digits.
func CheckOrganizationID(digits string) error {
	if len(digits) != 9 || !allDigits(digits) {
		return msg.Err("org.invalid")
	}
	switch k := mod11(digits, orgWeights[:]); {
	case k < 0:
		return msg.Err("org.k_impossible")
	case k != int(digits[8]-'0'):
		return msg.Err("org.k")
	}
	return nil
}

// ParseOrganizationID reads a Norwegian organisation number: 9 digits,
// spaces ignored, the VAT-register form "NO 123 456 789 MVA" accepted, and
// the mod-11 control digit checked. 9 digits is the strictest reading of the
// seeds: the payment-link rules say regex:/^\d{9}$/, the others "numeric" or
// "alphanumeric".
func ParseOrganizationID(raw string) (string, error) {
	s := strings.ToUpper(removeSpaces(raw))
	if strings.HasPrefix(s, "NO") && strings.HasSuffix(s, "MVA") {
		s = s[2 : len(s)-3]
	}
	if !allDigits(s) || len(s) != 9 {
		if allDigits(s) && len(s) > 0 {
			return "", msg.Err("org.length", len(s))
		}
		return "", msg.Err("org.invalid")
	}
	if err := CheckOrganizationID(s); err != nil {
		return "", err
	}
	return s, nil
}
