package fpclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// maxBody bounds how much of an answer is read; FP's answers are small.
const maxBody = 1 << 20

// Client talks to Front Payment's connect API. It never sleeps and never
// retries: River owns the waiting, and the caller decides from the error's
// Class what may be tried again.
type Client struct {
	baseURL string
	token   string
	http    *http.Client
}

// Config holds what a Client needs. Token is the bearer token; it is sent in
// the Authorization header and nowhere else (never in an error or a log).
type Config struct {
	BaseURL string
	Token   string
	// HTTPClient defaults to a client with Timeout. Its timeout must stay
	// below the River job timeout so a hung FP ends the attempt, not the job.
	HTTPClient *http.Client
	Timeout    time.Duration // default 30 s
}

// New checks the configuration and returns a client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("FP base URL %q is not an absolute http(s) URL", cfg.BaseURL)
	}
	if cfg.Token == "" {
		return nil, errors.New("FP token is empty")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		timeout := cfg.Timeout
		if timeout == 0 {
			timeout = 30 * time.Second
		}
		// Go's default transport keeps 2 idle connections per host: with
		// more requests in flight than that, every answer would close a
		// connection and the next request dial a new one.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 256
		tr.MaxIdleConnsPerHost = 256
		hc = &http.Client{Timeout: timeout, Transport: tr}
	}
	return &Client{baseURL: strings.TrimRight(cfg.BaseURL, "/"), token: cfg.Token, http: hc}, nil
}

// Created is FP's answer to a successful create (or fpgoUuid update).
type Created struct {
	HTTPStatus   int
	Message      string
	OrderUUID    string // data.orderUuid, or data.uuid for payment links
	CustomerUUID string
	PaymentURL   string
	BankIDURL    string
	RateLimit    RateLimit
}

// RateLimit is FP's own budget as reported in every answer
// (x-ratelimit-limit: 240 per minute per token, x-ratelimit-remaining: N).
// -1 means the header was absent.
type RateLimit struct {
	Limit, Remaining int
}

// Submit sends one order of the given kind. On success it returns what FP
// answered. A 2xx answer without an order id (the payment-link seed documents
// `"data": null`) is still a success: FP created the order, and its id arrives
// with the first callback, which carries our own reference.
func (c *Client) Submit(ctx context.Context, kind Kind, payload any) (*Created, error) {
	path := kind.Path()
	if path == "" {
		return nil, &Error{Class: Permanent, Message: fmt.Sprintf("unknown kind %q", kind)}
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, &Error{Class: Permanent, Message: "encoding payload", Err: err}
	}
	status, header, respBody, err := c.do(ctx, http.MethodPost, path, body)
	if err != nil {
		return nil, err
	}
	rl := rateLimitOf(header)
	if status >= 200 && status < 300 {
		var env envelope
		_ = json.Unmarshal(respBody, &env) // a garbled 2xx body is still a created order
		var d createdData
		if len(env.Data) > 0 {
			_ = json.Unmarshal(env.Data, &d)
		}
		id := d.OrderUUID
		if id == "" {
			id = d.UUID
		}
		return &Created{
			HTTPStatus: status, Message: env.Message, OrderUUID: id, CustomerUUID: d.CustomerUUID,
			PaymentURL: d.PaymentURL, BankIDURL: d.BankIDURL, RateLimit: rl,
		}, nil
	}
	return nil, errorFromAnswer(status, header, respBody)
}

// ErrOrderNotFound is what OrderStatus's error wraps when FP does not know
// the order (404 orderNotFound in FP's envelope). The error is still an
// *Error, Permanent, with the answer's rate-limit headers.
var ErrOrderNotFound = errors.New("FP does not know the order")

// Status is FP's answer to a status request.
type Status struct {
	OrderUUID string // data.uuid
	Status    string // FP's status as FP writes it ("SENT", "PARTIAL REFUNDED")
	RateLimit RateLimit
}

// OrderStatus asks FP for an order's current status
// (GET /api/v1/connect/orders/status/{orderUuid}; recorded from FP's demo API,
// not in the seeds). An unknown order is a Permanent *Error with status 404
// that wraps ErrOrderNotFound; any other failure is classified as Submit's.
// A 404 outside FP's envelope (a proxy, a wrong base URL) is not taken for an
// unknown order.
func (c *Client) OrderStatus(ctx context.Context, orderUUID string) (*Status, error) {
	status, header, body, err := c.do(ctx, http.MethodGet, "/api/v1/connect/orders/status/"+url.PathEscape(orderUUID), nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		e := errorFromAnswer(status, header, body)
		if status == http.StatusNotFound && e.FromFP && e.Message == "orderNotFound" {
			e.Err = ErrOrderNotFound
		}
		return nil, e
	}
	rl := rateLimitOf(header)
	var env envelope
	var d struct {
		UUID   string `json:"uuid"`
		Status string `json:"status"`
	}
	if json.Unmarshal(body, &env) == nil && len(env.Data) > 0 {
		_ = json.Unmarshal(env.Data, &d)
	}
	if d.Status == "" {
		// Asking again is harmless: a status request changes nothing at FP.
		return nil, &Error{Class: Retryable, StatusCode: status, Message: "status answer without a status", RateLimit: rl}
	}
	return &Status{OrderUUID: d.UUID, Status: d.Status, RateLimit: rl}, nil
}

// do performs one request, recording with httptrace whether the request was
// written before any failure: that is what separates "safe to retry" from
// "FP may have it".
func (c *Client) do(ctx context.Context, method, path string, body []byte) (int, http.Header, []byte, error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), method, c.baseURL+path, rd)
	if err != nil {
		return 0, nil, nil, &Error{Class: Permanent, Message: "building request", Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, transportError(err, wrote.Load())
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		// The status line came back, the body did not: FP answered, so the
		// status code is the answer; a truncated body only loses detail.
		respBody = nil
	}
	return resp.StatusCode, resp.Header, respBody, nil
}

// transportError classifies a failure with no HTTP answer. The url.Error from
// net/http names the URL, which holds no secret (the token is a header).
func transportError(err error, written bool) *Error {
	if !written {
		return &Error{Class: Retryable, Message: "request not sent: " + describe(err), Err: err}
	}
	return &Error{Class: Ambiguous, Written: true, Message: "request sent, no answer: " + describe(err), Err: err}
}

func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// envelope is FP's wrapper around every answer.
type envelope struct {
	StatusCode    int             `json:"status_code"`
	StatusMessage string          `json:"status_message"`
	Message       string          `json:"message"`
	IsData        *bool           `json:"is_data"`
	Data          json.RawMessage `json:"data"`
	IsError       *bool           `json:"is_error"`
	Errors        json.RawMessage `json:"errors"`
}

type createdData struct {
	OrderUUID    string `json:"orderUuid"`
	UUID         string `json:"uuid"`
	CustomerUUID string `json:"customerUuid"`
	PaymentURL   string `json:"paymentUrl"`
	BankIDURL    string `json:"bankIdUrl"`
}

// errorFromAnswer turns a non-2xx answer into a classified Error.
func errorFromAnswer(status int, header http.Header, body []byte) *Error {
	var env envelope
	fromFP := json.Unmarshal(body, &env) == nil && env.StatusCode != 0 && (env.IsError != nil || env.IsData != nil)
	e := &Error{
		StatusCode: status,
		RetryAfter: retryAfter(header.Get("Retry-After")),
		FromFP:     fromFP,
		RateLimit:  rateLimitOf(header),
	}
	if fromFP {
		e.Message = env.Message
		if status < 500 { // a 5xx's "errors" is diagnostics (the seeds show placeholders), not field errors
			e.FieldErrors = fieldErrors(env.Errors)
		}
	} else {
		e.Message = http.StatusText(status)
	}
	e.Class = Classify(status, fromFP, e.RetryAfter > 0)
	return e
}

// Classify decides, from an HTTP answer alone, what may happen next. It is the
// one place that encodes how an order is submitted without duplicates (FP
// has no idempotency key; docs/design.md):
//   - 429, and 503 that says when to come back: FP refused before doing
//     anything; wait and retry.
//   - 500/510 in FP's own envelope: FP says "please try again later".
//   - 500–599 without FP's envelope (a gateway's 502/503/504, a proxy's 500):
//     FP may or may not have processed the order: ambiguous.
//   - 401/403: the token is wrong; the caller pauses instead of burning attempts.
//   - 408: the server timed out reading our request, so it processed nothing.
//   - every other 4xx (417 validation, 400 business rule, 404, 422): permanent.
func Classify(status int, fromFP, hasRetryAfter bool) Class {
	switch {
	case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout:
		return Retryable
	case status == http.StatusServiceUnavailable && (fromFP || hasRetryAfter):
		return Retryable
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return Auth
	case status >= 500 && fromFP && status != http.StatusBadGateway && status != http.StatusGatewayTimeout:
		return Retryable
	case status >= 500:
		return Ambiguous
	case status >= 400:
		return Permanent
	}
	// 1xx/3xx: not an answer FP gives; we cannot tell what happened.
	return Ambiguous
}

// fieldErrors flattens FP's `errors`: a list of Laravel messages (what FP's
// demo API sends), an object of field → messages, or a string (the seeds show
// the placeholder "Array").
func fieldErrors(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		var out []string
		for field, v := range obj {
			var msgs []string
			if json.Unmarshal(v, &msgs) == nil {
				for _, m := range msgs {
					out = append(out, field+": "+m)
				}
				continue
			}
			var one string
			if json.Unmarshal(v, &one) == nil {
				out = append(out, field+": "+one)
			}
		}
		slices.Sort(out)
		return out
	}
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" && s != "Array" {
		return []string{s}
	}
	return nil
}

// retryAfter reads Retry-After as seconds or an HTTP date; 0 when absent.
func retryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

func rateLimitOf(h http.Header) RateLimit {
	num := func(name string) int {
		n, err := strconv.Atoi(strings.TrimSpace(h.Get(name)))
		if err != nil {
			return -1
		}
		return n
	}
	return RateLimit{Limit: num("X-Ratelimit-Limit"), Remaining: num("X-Ratelimit-Remaining")}
}
