package fpclient

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		status        int
		fromFP, retry bool
		want          Class
	}{
		{417, true, false, Permanent},
		{400, true, false, Permanent},
		{404, true, false, Permanent},
		{422, false, false, Permanent},
		{401, true, false, Auth},
		{403, false, false, Auth},
		{429, false, true, Retryable},
		{429, false, false, Retryable},
		{408, false, false, Retryable},
		{500, true, false, Retryable},
		{510, true, false, Retryable},
		{500, false, false, Ambiguous}, // a proxy's 500: FP may have it
		{502, false, false, Ambiguous},
		{502, true, false, Ambiguous},
		{503, false, false, Ambiguous},
		{503, false, true, Retryable}, // says when to come back: nothing was done
		{503, true, false, Retryable},
		{504, false, false, Ambiguous},
		{504, true, false, Ambiguous},
		{302, false, false, Ambiguous},
	} {
		if got := Classify(c.status, c.fromFP, c.retry); got != c.want {
			t.Errorf("Classify(%d, fromFP=%v, retryAfter=%v) = %s, want %s", c.status, c.fromFP, c.retry, got, c.want)
		}
	}
}

func newClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Token: "tok-secret", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSubmitCreated(t *testing.T) {
	t.Parallel()
	for kind, body := range map[Kind]string{
		KindCheckout:    `{"status_code":201,"status_message":"OK","message":"Order Submitted Successfully","is_data":true,"data":{"orderUuid":"ODR1234567890","customerUuid":"CSRT1234567890","paymentUrl":"https://pay/x"}}`,
		KindInvoice:     `{"status_code":201,"status_message":"OK","message":"orderCreatedSuccessfully","is_data":true,"data":{"orderUuid":"ODR1234567890","customerUuid":"CSRT1234567890","bankIdUrl":"https://bankid/x"}}`,
		KindPaymentLink: `{"status_code":201,"status_message":"OK","message":"orderAddedSuccessfully","is_data":true,"data":{"uuid":"ODR1234567890","customerUuid":"CSRT1234567890"}}`,
	} {
		c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != kind.Path() || r.Header.Get("Authorization") != "Bearer tok-secret" || r.Method != http.MethodPost {
				t.Errorf("%s: got %s %s auth=%q", kind, r.Method, r.URL.Path, r.Header.Get("Authorization"))
			}
			w.Header().Set("x-ratelimit-limit", "240")
			w.Header().Set("x-ratelimit-remaining", "239")
			w.WriteHeader(201)
			w.Write([]byte(body))
		})
		got, err := c.Submit(context.Background(), kind, map[string]any{"x": 1})
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if got.OrderUUID != "ODR1234567890" || got.CustomerUUID != "CSRT1234567890" || got.RateLimit != (RateLimit{240, 239}) {
			t.Errorf("%s: got %+v", kind, got)
		}
	}
}

// The payment-link seed also documents a 201 with "data": null: the order
// exists at FP, its id arrives with the callback. It must not be an error.
func TestSubmitCreatedWithoutData(t *testing.T) {
	t.Parallel()
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(201)
		w.Write([]byte(`{"status_code":201,"status_message":"OK","message":"orderAddedSuccessfully","is_data":false,"data":null}`))
	})
	got, err := c.Submit(context.Background(), KindPaymentLink, struct{}{})
	if err != nil || got.OrderUUID != "" || got.Message != "orderAddedSuccessfully" {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestSubmitErrors(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		status  int
		header  map[string]string
		body    string
		class   Class
		fields  []string
		message string
		after   time.Duration
	}{
		"417 flat list": {417, nil, `{"status_code":417,"status_message":"Client Error","message":"payloadValidationErrors","is_error":true,"errors":["The customer details.email must be a valid email address.","The products.0.tax field is required."]}`,
			Permanent, []string{"The customer details.email must be a valid email address.", "The products.0.tax field is required."}, "payloadValidationErrors", 0},
		"417 object": {417, nil, `{"status_code":417,"status_message":"Client Error","message":"payloadValidationErrors","is_error":true,"errors":{"customerDetails.email":["must be valid"],"orderDate":"is required"}}`,
			Permanent, []string{"customerDetails.email: must be valid", "orderDate: is required"}, "payloadValidationErrors", 0},
		"500 envelope": {500, nil, `{"status_code":500,"status_message":"Internal Dependency Error","message":"Internal Error Occurred Please Try Again Later","is_error":true,"errors":{"happenedAt":"String","internalErrorDetails":"Array"}}`,
			Retryable, nil, "Internal Error Occurred Please Try Again Later", 0},
		"510 envelope": {510, nil, `{"status_code":510,"status_message":"Execution Exception Occurred","message":"Something Went Wrong","is_error":true,"errors":"Array"}`,
			Retryable, nil, "Something Went Wrong", 0},
		"429":      {429, map[string]string{"Retry-After": "7"}, `{}`, Retryable, nil, "Too Many Requests", 7 * time.Second},
		"502 html": {502, nil, `<html>bad gateway</html>`, Ambiguous, nil, "Bad Gateway", 0},
		"401":      {401, nil, `{"status_code":401,"status_message":"Unauthorized","message":"Unauthenticated","is_error":true,"errors":[]}`, Auth, nil, "Unauthenticated", 0},
	} {
		cl := newClient(t, func(w http.ResponseWriter, r *http.Request) {
			for k, v := range c.header {
				w.Header().Set(k, v)
			}
			w.WriteHeader(c.status)
			w.Write([]byte(c.body))
		})
		_, err := cl.Submit(context.Background(), KindInvoice, struct{}{})
		var fe *Error
		if !asError(err, &fe) {
			t.Fatalf("%s: err = %v, want *Error", name, err)
		}
		if fe.Class != c.class || fe.StatusCode != c.status || fe.Message != c.message || fe.RetryAfter != c.after ||
			strings.Join(fe.FieldErrors, "|") != strings.Join(c.fields, "|") {
			t.Errorf("%s: got %+v", name, fe)
		}
		if strings.Contains(err.Error(), "tok-secret") {
			t.Errorf("%s: token in error", name)
		}
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	*target = e
	return ok
}

// A connection refused happens before anything is written: safe to retry.
func TestTransportBeforeWriteIsRetryable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, _ := New(Config{BaseURL: "http://" + addr, Token: "tok-secret", Timeout: time.Second})
	_, err = c.Submit(context.Background(), KindInvoice, struct{}{})
	if ClassOf(err) != Retryable {
		t.Fatalf("class = %s (%v), want retryable", ClassOf(err), err)
	}
}

// The server reads the whole request, then drops the connection: the order
// may exist at FP, so the outcome is ambiguous.
func TestDropAfterWriteIsAmbiguous(t *testing.T) {
	t.Parallel()
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		var v any
		_ = json.NewDecoder(r.Body).Decode(&v)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	_, err := c.Submit(context.Background(), KindInvoice, map[string]any{"a": 1})
	var fe *Error
	if !asError(err, &fe) || fe.Class != Ambiguous || !fe.Written {
		t.Fatalf("got %+v (%v), want ambiguous written", fe, err)
	}
}

func TestTimeoutAfterWriteIsAmbiguous(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Submit(ctx, KindInvoice, struct{}{})
	if ClassOf(err) != Ambiguous {
		t.Fatalf("class = %s (%v), want ambiguous", ClassOf(err), err)
	}
}

func TestChecksum(t *testing.T) {
	t.Parallel()
	// sha256("ODR10293993" + "PAID" + "1753079134")
	got := Checksum("ODR10293993", "PAID", "1753079134", "")
	if len(got) != 64 || !VerifyChecksum(strings.ToUpper(got), "ODR10293993", "PAID", "1753079134", "") {
		t.Fatalf("checksum %q does not verify", got)
	}
	if VerifyChecksum(got, "ODR10293993", "SENT", "1753079134", "") {
		t.Error("checksum verifies another status")
	}
	if VerifyChecksum(got, "ODR10293993", "PAID", "1753079134", "key") {
		t.Error("keyless checksum verifies with a key")
	}
}

func TestAmountJSON(t *testing.T) {
	t.Parallel()
	b, _ := json.Marshal(struct {
		A Amount   `json:"a"`
		Q Quantity `json:"q"`
	}{401786, 1500})
	if string(b) != `{"a":4017.86,"q":1.5}` {
		t.Errorf("got %s", b)
	}
	var v struct {
		A, B, C Amount
	}
	if err := json.Unmarshal([]byte(`{"A":"40","B":0.1,"C":"4017.86"}`), &v); err != nil || v.A != 4000 || v.B != 10 || v.C != 401786 {
		t.Errorf("got %+v, %v", v, err)
	}
	if err := json.Unmarshal([]byte(`{"A":1.005}`), &v); err == nil {
		t.Error("accepted a third decimal")
	}
}

func TestOrderStatus(t *testing.T) {
	t.Parallel()
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/connect/orders/status/ODR1234567890" || r.Header.Get("Authorization") != "Bearer tok-secret" {
			t.Errorf("got %s %s auth=%q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		w.Header().Set("x-ratelimit-limit", "240")
		w.Header().Set("x-ratelimit-remaining", "238")
		w.Write([]byte(`{"status_code":200,"status_message":"OK","message":"Order Status Retrieved Successfully","is_data":true,"data":{"uuid":"ODR1234567890","status":"PARTIAL REFUNDED"}}`))
	})
	got, err := c.OrderStatus(context.Background(), "ODR1234567890")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Status{OrderUUID: "ODR1234567890", Status: "PARTIAL REFUNDED", RateLimit: RateLimit{240, 238}}); *got != want {
		t.Errorf("got %+v, want %+v", *got, want)
	}
}

func TestOrderStatusErrors(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		status   int
		body     string
		class    Class
		notFound bool
	}{
		"404 orderNotFound": {404, `{"status_code":404,"status_message":"Not Found","message":"orderNotFound","is_data":false,"data":null}`, Permanent, true},
		"404 route":         {404, `{"status_code":404,"status_message":"Not Found","message":"routeNotFound","is_error":true,"errors":[]}`, Permanent, false},
		"404 html":          {404, `<html>not found</html>`, Permanent, false},
		"401":               {401, `{"status_code":401,"status_message":"Unauthorized","message":"Unauthenticated","is_error":true,"errors":[]}`, Auth, false},
		"429":               {429, `{}`, Retryable, false},
		"500 envelope":      {500, `{"status_code":500,"status_message":"Internal Dependency Error","message":"Internal Error Occurred Please Try Again Later","is_error":true,"errors":"Array"}`, Retryable, false},
		"502 html":          {502, `<html>bad gateway</html>`, Ambiguous, false},
		"200 without data":  {200, `{"status_code":200,"status_message":"OK","message":"x","is_data":false,"data":null}`, Retryable, false},
	} {
		cl := newClient(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("x-ratelimit-limit", "240")
			w.Header().Set("x-ratelimit-remaining", "7")
			w.WriteHeader(c.status)
			w.Write([]byte(c.body))
		})
		_, err := cl.OrderStatus(context.Background(), "ODR1234567890")
		var fe *Error
		if !asError(err, &fe) {
			t.Fatalf("%s: err = %v, want *Error", name, err)
		}
		if fe.Class != c.class || fe.StatusCode != c.status || errors.Is(err, ErrOrderNotFound) != c.notFound || fe.RateLimit != (RateLimit{240, 7}) {
			t.Errorf("%s: got %+v (not found %v), want class %s, not found %v", name, fe, errors.Is(err, ErrOrderNotFound), c.class, c.notFound)
		}
	}
}
