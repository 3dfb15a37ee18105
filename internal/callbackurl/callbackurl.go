// Package callbackurl builds and checks the callbackUrl fpexport gives FP:
// {base}/callbacks/frontpayment?ref=<order id>&token=<HMAC>. FP's own
// checksum is keyless in the seeds (anyone can compute it), so the token, an
// HMAC of our order id under CALLBACK_SECRET, is what proves a callback
// concerns an order we sent: a callback is trusted only when both check out.
package callbackurl

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
)

// Path is where the worker's HTTP server receives FP's callbacks.
const Path = "/callbacks/frontpayment"

// Token is the HMAC-SHA256 of the order id under secret, hex encoded. The
// "fpexport-callback-v1:" prefix keeps it from matching any other use of the key.
func Token(secret string, orderID int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("fpexport-callback-v1:" + strconv.FormatInt(orderID, 10)))
	return hex.EncodeToString(mac.Sum(nil))
}

// Valid checks a token in constant time.
func Valid(secret string, orderID int64, token string) bool {
	return hmac.Equal([]byte(Token(secret, orderID)), []byte(strings.ToLower(token)))
}

// For returns the callbackUrl for an order.
func For(base, secret string, orderID int64) string {
	q := url.Values{}
	q.Set("ref", strconv.FormatInt(orderID, 10))
	q.Set("token", Token(secret, orderID))
	return strings.TrimRight(base, "/") + Path + "?" + q.Encode()
}
