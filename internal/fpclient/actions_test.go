package fpclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
)

func TestResendAndCancelAccepted(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		call     func(*Client) (*Accepted, error)
		path     string
		wantBody string
	}{
		"resend": {
			func(c *Client) (*Accepted, error) {
				return c.Resend(context.Background(), "ODR1234567890", Contact{CountryCode: "+47", MSISDN: "41234567", Email: "kari@example.no"})
			},
			"/api/v1/connect/orders/resend/ODR1234567890", `{"countryCode":"+47","msisdn":"41234567","email":"kari@example.no"}`,
		},
		"cancel": {
			func(c *Client) (*Accepted, error) { return c.Cancel(context.Background(), "ODR1234567890", "duplikat") },
			"/api/v1/connect/orders/cancel/ODR1234567890", `{"cancellationNote":"duplikat"}`,
		},
	} {
		cl := newClient(t, func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if r.Method != http.MethodPost || r.URL.Path != c.path || r.Header.Get("Authorization") != "Bearer tok-secret" ||
				r.Header.Get("Content-Type") != "application/json" || string(body) != c.wantBody {
				t.Errorf("%s: got %s %s auth=%q body %s", name, r.Method, r.URL.Path, r.Header.Get("Authorization"), body)
			}
			w.Header().Set("x-ratelimit-limit", "240")
			w.Header().Set("x-ratelimit-remaining", "200")
			w.WriteHeader(http.StatusAccepted)
			w.Write([]byte(`{"status_code":202,"status_message":"Accepted","message":"requestAccepted","is_data":false,"data":null}`))
		})
		got, err := c.call(cl)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if *got != (Accepted{HTTPStatus: 202, Message: "requestAccepted", RateLimit: RateLimit{240, 200}}) {
			t.Errorf("%s: got %+v", name, *got)
		}
	}
}

func TestResendAndCancelErrors(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		status   int
		body     string
		class    Class
		message  string
		conflict bool
		notFound bool
	}{
		"400 conflict":      {400, `{"status_code":400,"status_message":"Conflict of Business Logic","message":"Order is already paid","is_error":true,"errors":[]}`, Permanent, "Order is already paid", true, false},
		"400 html":          {400, `<html>bad request</html>`, Permanent, "Bad Request", false, false},
		"404 orderNotFound": {404, `{"status_code":404,"status_message":"Not Found","message":"orderNotFound","is_error":true,"errors":[]}`, Permanent, "orderNotFound", false, true},
		"404 route":         {404, `{"status_code":404,"status_message":"Not Found","message":"routeNotFound","is_error":true,"errors":[]}`, Permanent, "routeNotFound", false, false},
		"500 envelope":      {500, `{"status_code":500,"status_message":"Internal Dependency Error","message":"Internal Error Occurred Please Try Again Later","is_error":true,"errors":{"happenedAt":"x","internalErrorDetails":[]}}`, Retryable, "Internal Error Occurred Please Try Again Later", false, false},
		"510 envelope":      {510, `{"status_code":510,"status_message":"Execution Exception Occurred","message":"Something Went Wrong","is_error":true,"errors":[]}`, Retryable, "Something Went Wrong", false, false},
		"401":               {401, `{"status_code":401,"status_message":"Unauthorized","message":"Unauthenticated","is_error":true,"errors":[]}`, Auth, "Unauthenticated", false, false},
		"502 html":          {502, `<html>bad gateway</html>`, Ambiguous, "Bad Gateway", false, false},
	} {
		cl := newClient(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(c.status)
			w.Write([]byte(c.body))
		})
		for what, call := range map[string]func() error{
			"resend": func() error { _, err := cl.Resend(context.Background(), "ODR1", Contact{}); return err },
			"cancel": func() error { _, err := cl.Cancel(context.Background(), "ODR1", ""); return err },
		} {
			err := call()
			var fe *Error
			if !asError(err, &fe) {
				t.Fatalf("%s %s: err = %v, want *Error", what, name, err)
			}
			if fe.Class != c.class || fe.StatusCode != c.status || fe.Message != c.message ||
				errors.Is(err, ErrBusinessConflict) != c.conflict || errors.Is(err, ErrOrderNotFound) != c.notFound {
				t.Errorf("%s %s: got %+v (conflict %v, not found %v)", what, name, fe, errors.Is(err, ErrBusinessConflict), errors.Is(err, ErrOrderNotFound))
			}
		}
	}
}

// An action whose answer is lost may have been carried out: ambiguous, as a
// submission, so that nobody repeats it by itself.
func TestActionDropAfterWriteIsAmbiguous(t *testing.T) {
	t.Parallel()
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	_, err := c.Cancel(context.Background(), "ODR1", "x")
	var fe *Error
	if !asError(err, &fe) || fe.Class != Ambiguous || !fe.Written {
		t.Fatalf("got %+v (%v), want ambiguous written", fe, err)
	}
}
