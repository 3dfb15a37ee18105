package daemon_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

// WEB_TRUSTED_PROXIES: addresses and CIDR ranges; a mistake is one line
// naming the entry.
func TestWebTrustedProxiesSetting(t *testing.T) {
	t.Parallel()
	cfg, err := daemon.LoadConfig(daemontest.Env(map[string]string{"WEB_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7, fd00::/8"}), daemon.Need{Web: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range cfg.Web.TrustedProxies {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.0.2.7/32 fd00::/8" {
		t.Errorf("trusted proxies %v", got)
	}
	if cfg, err := daemon.LoadConfig(daemontest.Env(nil), daemon.Need{Web: true}); err != nil || len(cfg.Web.TrustedProxies) != 0 {
		t.Errorf("unset: %v, %v; want none trusted", err, cfg.Web.TrustedProxies)
	}
	_, err = daemon.LoadConfig(daemontest.Env(map[string]string{"WEB_TRUSTED_PROXIES": "10.0.0.0/8,proxy.example.no"}), daemon.Need{Web: true})
	if err == nil || strings.Count(err.Error(), "\n") != 0 ||
		!strings.HasPrefix(err.Error(), `WEB_TRUSTED_PROXIES: entry 2 ("proxy.example.no") is not an address or a CIDR range`) {
		t.Errorf("bad entry: got %v, want one line naming entry 2", err)
	}
}

// Through `worker run`'s own listener: five wrong passwords lock the name,
// and the sixth attempt, with the right password, is answered 429 with
// Retry-After before any password is checked; a copied session cookie
// stops working at logout.
func TestWebLoginLockInWorker(t *testing.T) {
	t.Parallel()
	const user, password = "kari", "riktig hest batteri"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	s := startStackWith(t, fpfake.Config{Plan: fpfake.NoCallbacks}, func(c *daemon.Config) {
		c.Web = daemon.WebConfig{Users: map[string][]byte{user: hash}, SessionKey: "logins-test-session-key-0123456789",
			MaxUpload: 32 << 20, UploadDir: t.TempDir()}
	})
	base := "http://" + s.Cfg.ListenAddr
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	form := func(path string) url.Values {
		t.Helper()
		resp, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := csrf.FindSubmatch(body)
		if m == nil {
			t.Fatalf("no form token on %s (%d)", path, resp.StatusCode)
		}
		return url.Values{"csrf": {string(m[1])}}
	}
	post := func(path string, v url.Values) *http.Response {
		t.Helper()
		resp, err := hc.PostForm(base+path, v)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	login := func(pw string) *http.Response {
		v := form("/web/login")
		v.Set("user", user)
		v.Set("password", pw)
		return post("/web/login", v)
	}
	for i := 1; i <= 5; i++ {
		if resp := login("wrong password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: got %d, want 401", i, resp.StatusCode)
		}
	}
	resp := login(password)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("right password while locked: got %d, Retry-After %q; want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The lock is in the shared database; end it as its time would.
	if _, err := s.Pool.Exec(context.Background(), `UPDATE web_login_failures SET locked_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	resp = login(password)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login after the lock: got %d, want 303", resp.StatusCode)
	}
	var stolen *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "fpx_session" {
			stolen = ck
		}
	}
	copied := func() int {
		req, _ := http.NewRequest(http.MethodGet, base+"/web/", nil)
		req.AddCookie(&http.Cookie{Name: stolen.Name, Value: stolen.Value})
		resp, err := (&http.Client{CheckRedirect: hc.CheckRedirect}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if stolen == nil || copied() != http.StatusOK {
		t.Fatal("the session cookie does not open the page")
	}
	if resp := post("/web/logout", form("/web/")); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if got := copied(); got != http.StatusSeeOther {
		t.Errorf("copied cookie after logout: got %d, want 303 to the login page", got)
	}
}
