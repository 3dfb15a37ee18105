package fpclient

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Class says what a failed request means for the order.
type Class int

const (
	// Ambiguous: the request may have reached FP and created the order
	// (sent but no answer, or a gateway error). Resending may duplicate it.
	Ambiguous Class = iota
	// Retryable: FP certainly did not create the order (nothing was sent, 429,
	// or FP's own "try again later"). Safe to send again.
	Retryable
	// Permanent: FP refused the order (417 validation, 400 business rule, …).
	// Sending it again unchanged gives the same answer.
	Permanent
	// Auth: FP refused our token (401/403). Nothing about the order is wrong.
	Auth
)

func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case Permanent:
		return "permanent"
	case Auth:
		return "auth"
	}
	return "ambiguous"
}

// Error is the one error type the client returns.
type Error struct {
	Class       Class
	StatusCode  int           // 0 when FP never answered
	Message     string        // FP's message, or what went wrong
	FieldErrors []string      // FP's validation messages
	RetryAfter  time.Duration // from Retry-After, when given
	Written     bool          // the request was written before the failure
	FromFP      bool          // the answer was in FP's envelope
	RateLimit   RateLimit
	Err         error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "FP answered %d", e.StatusCode)
		if e.Message != "" {
			b.WriteString(": " + e.Message)
		}
	} else {
		b.WriteString(e.Message)
	}
	if len(e.FieldErrors) > 0 {
		b.WriteString(" (" + strings.Join(e.FieldErrors, "; ") + ")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf returns the class of err; an error not from this package is
// Ambiguous, the safe assumption for a payment.
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Ambiguous
}
