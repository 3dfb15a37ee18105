package httpapi

import (
	"strconv"
	"testing"
	"time"
)

// Up to store.MaxCreatedAhead (5 minutes) of clock skew is taken; beyond,
// refused; a createdAt that is not a number is left to the apply job.
func TestCreatedTooFarAhead(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_764_000_000, 0)
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	for created, want := range map[string]bool{
		at(-time.Hour):                  false,
		at(0):                           false,
		at(5 * time.Minute):             false,
		at(5*time.Minute + time.Second): true,
		"9999999999":                    true,
		"soon":                          false,
		"":                              false,
	} {
		if got := createdTooFarAhead(created, now); got != want {
			t.Errorf("createdAt %q: %v, want %v", created, got, want)
		}
	}
}
