package fpclient

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
)

// ErrBusinessConflict is what Resend's and Cancel's error wraps when FP
// refuses the action by its business rules (400 "Conflict of Business
// Logic": the order is already paid or cancelled). The error is a Permanent
// *Error whose Message is FP's own; the order at FP is unchanged.
var ErrBusinessConflict = errors.New("FP refused the action: the order is already paid or cancelled")

// Contact is where FP sends a payment link or invoice notification again.
type Contact struct {
	CountryCode string `json:"countryCode"`
	MSISDN      string `json:"msisdn"`
	Email       string `json:"email"`
}

// Accepted is FP's answer to an action it took on (202, or any 2xx).
type Accepted struct {
	HTTPStatus int
	Message    string
	RateLimit  RateLimit
}

// ResendPath and CancelPath are the action endpoints for one order.
func ResendPath(orderUUID string) string {
	return "/api/v1/connect/orders/resend/" + url.PathEscape(orderUUID)
}

func CancelPath(orderUUID string) string {
	return "/api/v1/connect/orders/cancel/" + url.PathEscape(orderUUID)
}

// Resend asks FP to send the order's payment link or invoice notification
// again (POST /api/v1/connect/orders/resend/{orderUuid}). Errors are classed
// as Submit's: a request written without an answer is Ambiguous (FP may have
// sent it; a person decides whether to send again), 500/510 in FP's envelope
// Retryable, 401/403 Auth; 400 wraps ErrBusinessConflict and 404
// orderNotFound wraps ErrOrderNotFound, both Permanent.
func (c *Client) Resend(ctx context.Context, orderUUID string, to Contact) (*Accepted, error) {
	return c.action(ctx, ResendPath(orderUUID), to)
}

// Cancel asks FP to cancel the order (POST
// /api/v1/connect/orders/cancel/{orderUuid}). FP's acceptance is not the
// cancellation: FP reports CANCELLED afterwards (callback or status poll).
// Errors as Resend's.
func (c *Client) Cancel(ctx context.Context, orderUUID, note string) (*Accepted, error) {
	return c.action(ctx, CancelPath(orderUUID), struct {
		CancellationNote string `json:"cancellationNote"`
	}{note})
}

func (c *Client) action(ctx context.Context, path string, payload any) (*Accepted, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, &Error{Class: Permanent, Message: "encoding payload", Err: err}
	}
	status, header, respBody, err := c.do(ctx, http.MethodPost, path, body)
	if err != nil {
		return nil, err
	}
	if status >= 200 && status < 300 {
		var env envelope
		_ = json.Unmarshal(respBody, &env) // a garbled 2xx body is still an acceptance
		return &Accepted{HTTPStatus: status, Message: env.Message, RateLimit: rateLimitOf(header)}, nil
	}
	e := errorFromAnswer(status, header, respBody)
	switch {
	case status == http.StatusBadRequest && e.FromFP:
		e.Err = ErrBusinessConflict
	case status == http.StatusNotFound && e.FromFP && e.Message == "orderNotFound":
		e.Err = ErrOrderNotFound
	}
	return nil, e
}
