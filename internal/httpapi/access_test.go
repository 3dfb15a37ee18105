package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

const goodToken = "a-report-token-that-is-long-enough-0123456789"

func TestParseReportTokens(t *testing.T) {
	t.Parallel()
	short := strings.Repeat("s", MinReportToken-1)
	rt, problems := ParseReportTokens(" " + goodToken + " ,," + short + "," + strings.Repeat("x", MinReportToken))
	if rt.Len() != 2 {
		t.Errorf("%d tokens kept, want 2", rt.Len())
	}
	if len(problems) != 1 || !strings.HasPrefix(problems[0], "entry 3 is shorter than 32 characters") {
		t.Errorf("problems %q, want one naming entry 3", problems)
	}
	if strings.Contains(strings.Join(problems, "\n"), short) {
		t.Error("a problem shows the token")
	}
	if !rt.valid(goodToken) || rt.valid(short) || rt.valid(goodToken+"x") || rt.valid(goodToken[:MinReportToken]) || rt.valid("") {
		t.Error("valid() accepts a wrong token or refuses the right one")
	}
	if empty, problems := ParseReportTokens(""); empty.Len() != 0 || len(problems) != 0 || empty.valid("") {
		t.Errorf("unset REPORT_TOKENS: %d tokens, %q", empty.Len(), problems)
	}
	var none *ReportTokens
	if none.valid(goodToken) || none.Len() != 0 {
		t.Error("a nil ReportTokens admits someone")
	}
}

// The report's door: a bearer token of REPORT_TOKENS, nothing else, without
// a web page; 401 with WWW-Authenticate otherwise; the token never logged.
func TestReportAccess(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	rt, _ := ParseReportTokens(goodToken)
	s := &Server{ReportTokens: rt, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	h := s.requireReportAccess(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("the report")) })
	for _, c := range []struct {
		auth string
		want int
	}{
		{"", 401},
		{"Bearer", 401},
		{"Bearer ", 401},
		{"Bearer " + goodToken + "x", 401},
		{"Bearer " + strings.ToUpper(goodToken), 401},
		{"Basic " + goodToken, 401},
		{goodToken, 401},
		{"Bearer " + goodToken, 200},
		{"BEARER  " + goodToken + " ", 200},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/reports/reconciliation", nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		h(rec, req)
		if rec.Code != c.want {
			t.Errorf("Authorization %q: HTTP %d, want %d", c.auth, rec.Code, c.want)
		}
		if c.want == 401 && (rec.Header().Get("WWW-Authenticate") == "" || strings.Contains(rec.Body.String(), "the report")) {
			t.Errorf("Authorization %q: refused without WWW-Authenticate, or with the report", c.auth)
		}
	}
	if strings.Contains(logs.String(), goodToken) || strings.Contains(logs.String(), strings.ToUpper(goodToken)) {
		t.Errorf("the log shows a token:\n%s", logs.String())
	}
}

// Every answer through CommonHeaders carries nosniff and no-store, also
// when the handler cleared them (the file server does on its errors).
func TestCommonHeaders(t *testing.T) {
	t.Parallel()
	files := http.FileServerFS(fstest.MapFS{"a.css": {Data: []byte("b{}")}})
	for _, c := range []struct {
		name string
		h    http.Handler
		want int
	}{
		{"file", files, 200},
		{"missing file", files, 404},
		{"error", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusTeapot) }), 418},
		{"cleared", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Del("Cache-Control")
			_, _ = w.Write([]byte("x"))
		}), 200},
	} {
		rec := httptest.NewRecorder()
		path := "/a.css"
		if c.name == "missing file" {
			path = "/nope.css"
		}
		CommonHeaders(c.h).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != c.want || rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: HTTP %d, headers %v", c.name, rec.Code, rec.Header())
		}
	}
}

// While starting, the gate answers: /healthz 200, /readyz 503 with the
// reason, the rest 503 with Retry-After; once open, the handler answers.
func TestStartingGate(t *testing.T) {
	t.Parallel()
	g := NewStarting()
	g.SetReason("database unreachable: connection refused")
	h := g.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("served")) }))
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	if rec := get("/healthz"); rec.Code != 200 {
		t.Errorf("healthz while starting: %d", rec.Code)
	}
	rec := get("/readyz")
	var body struct{ Status, Reason string }
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != 503 || body.Status != "not ready" || body.Reason != "database unreachable: connection refused" {
		t.Errorf("readyz while starting: %d %s", rec.Code, rec.Body)
	}
	for _, p := range []string{"/callbacks/frontpayment", "/reports/reconciliation", "/web/"} {
		if rec := get(p); rec.Code != 503 || rec.Header().Get("Retry-After") != StartRetryAfter || rec.Body.String() == "served" {
			t.Errorf("%s while starting: %d, Retry-After %q", p, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	g.Open()
	for _, p := range []string{"/healthz", "/readyz", "/reports/reconciliation"} {
		if rec := get(p); rec.Code != 200 || rec.Body.String() != "served" {
			t.Errorf("%s once open: %d %q", p, rec.Code, rec.Body)
		}
	}
}

// Our ref and token are read from the URL we gave FP only: a POSTed body
// (form or JSON) cannot supply or replace them, FP's fields it can.
func TestCallbackRefAndTokenOnlyFromURL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ query, contentType, body string }{
		{"", "application/x-www-form-urlencoded", "ref=7&token=forged&orderUuid=ODR1"},
		{"", "application/json", `{"ref":"7","token":"forged","orderUuid":"ODR1"}`},
		{"?ref=5&token=ours", "application/x-www-form-urlencoded", "ref=7&token=forged&orderUuid=ODR1"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/callbacks/frontpayment"+c.query, strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.contentType)
		got := readCallback(httptest.NewRecorder(), req)
		wantRef, wantToken := "", ""
		if c.query != "" {
			wantRef, wantToken = "5", "ours"
		}
		if got.refuse != 0 || got.params.Get("ref") != wantRef || got.params.Get("token") != wantToken || got.params.Get("orderUuid") != "ODR1" {
			t.Errorf("%s %s: ref %q token %q orderUuid %q (refuse %d), want ref %q token %q from the URL only",
				c.query, c.body, got.params.Get("ref"), got.params.Get("token"), got.params.Get("orderUuid"), got.refuse, wantRef, wantToken)
		}
	}
}
