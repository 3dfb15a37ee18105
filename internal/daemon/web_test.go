package daemon_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/frontpayment/fpexport/internal/daemon"
)

// Without WEB_USERS the page is not mounted, and the log says so.
func TestWebPageOffWithoutUsers(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	api := http.NotFoundHandler()
	h, err := daemon.WithWebPage(&daemon.Config{}, nil, nil, slog.New(slog.NewTextHandler(&logs, nil)), api)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/web/", nil))
	if rec.Code != http.StatusNotFound || !strings.Contains(logs.String(), "web page off: WEB_USERS is empty") {
		t.Errorf("GET /web/ without users: %d, log %q", rec.Code, logs.String())
	}
}
