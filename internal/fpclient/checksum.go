package fpclient

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
)

// Checksum is FP's callback checksum: lower-case hex of
// sha256(orderUuid + status + createdAt), as the seeds define it. Other
// versions of FP's documentation append a secretKey that FP hands the
// merchant; key is that secret, or "" for the seeds' keyless formula.
func Checksum(orderUUID, status, createdAt, key string) string {
	sum := sha256.Sum256([]byte(orderUUID + status + createdAt + key))
	return hex.EncodeToString(sum[:])
}

// VerifyChecksum compares in constant time; FP's hex may be upper case.
func VerifyChecksum(got, orderUUID, status, createdAt, key string) bool {
	want := Checksum(orderUUID, status, createdAt, key)
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}
