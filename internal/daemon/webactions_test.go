package daemon_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

var csrfInPage = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// The worker gives its web page its own FP client: a cancel from the page
// reaches FP (the simulator), and FP's CANCELLED settles the order.
func TestCancelFromThePageReachesFP(t *testing.T) {
	t.Parallel()
	hash, err := bcrypt.GenerateFromPassword([]byte("riktig hest batteri"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	s := startStackWith(t, fpfake.Config{Plan: func(fpfake.Order) []string { return []string{"SENT"} }}, func(c *daemon.Config) {
		c.Web = daemon.WebConfig{Users: map[string][]byte{"kari": hash}, SessionKey: "page-actions-test-session-key-0123456789",
			MaxUpload: 1 << 20, UploadDir: t.TempDir()}
	})
	start := time.Now()
	s.ImportCSV(t, "orders.csv", invoices("W-1", "W-2"))
	s.WaitSettled(t, start, true)
	s.waitStatus(t, "W-1", "sent")
	s.waitStatus(t, "W-2", "sent")

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := "http://" + s.Cfg.ListenAddr
	get := func(path string) string {
		t.Helper()
		resp, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		resp, err := hc.PostForm(base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	csrf := func(page string) string {
		t.Helper()
		m := csrfInPage.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF token:\n%s", page)
		}
		return m[1]
	}
	if code, body := post("/web/login", url.Values{"csrf": {csrf(get("/web/login"))}, "user": {"kari"},
		"password": {"riktig hest batteri"}, "next": {"/web/"}}); code != http.StatusSeeOther {
		t.Fatalf("login: %d %s", code, body)
	}
	var id string
	if err := s.Pool.QueryRow(t.Context(), `SELECT id::text FROM orders WHERE order_ref = 'W-1'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	token := csrf(get("/web/orders/" + id))
	code, body := post("/web/actions", url.Values{"csrf": {token}, "action": {"cancel"}, "id": {id}, "confirmed": {"1"}, "note": {"feil kunde"}})
	if code != http.StatusOK || !strings.Contains(body, `class="good"`) {
		t.Fatalf("cancel from the page: %d\n%s", code, body)
	}
	_, uuid := s.order(t, "W-1")
	if o, _ := s.Sim.Order(uuid); !o.CancelRequested || o.CancellationNote != "feil kunde" {
		t.Errorf("FP was not asked to cancel: %+v", o)
	}
	s.waitStatus(t, "W-1", "cancelled")

	// The page's requests go through the worker's throttle: while sending
	// is paused (as after FP refused the token) a resend is not sent, and
	// is recorded as "try later", not as a lost answer.
	if _, err := s.Pool.Exec(t.Context(), `UPDATE fp_throttle SET paused_since = now(), paused_until = now() + interval '1 hour',
		pause_reason = 'test'`); err != nil {
		t.Fatal(err)
	}
	var id2 string
	if err := s.Pool.QueryRow(t.Context(), `SELECT id::text FROM orders WHERE order_ref = 'W-2'`).Scan(&id2); err != nil {
		t.Fatal(err)
	}
	token = csrf(get("/web/orders/" + id2))
	if code, body := post("/web/actions", url.Values{"csrf": {token}, "action": {"resend"}, "id": {id2}, "confirmed": {"1"}}); code != http.StatusOK {
		t.Fatalf("resend from the page: %d\n%s", code, body)
	}
	_, uuid2 := s.order(t, "W-2")
	if got := s.Sim.Resends(uuid2); len(got) != 0 {
		t.Errorf("resent while the throttle pauses sending: %+v", got)
	}
	var outcome string
	if err := s.Pool.QueryRow(t.Context(), `SELECT detail->>'outcome' FROM order_events WHERE order_id = $1::bigint AND type = 'resend'`, id2).Scan(&outcome); err != nil || outcome != "retry_later" {
		t.Errorf("resend event outcome %q, %v; want retry_later", outcome, err)
	}
}
