package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// lockedBuffer is a log the handlers write while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// clock is a time the test moves by hand, so no lock depends on how fast
// the machine is.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// loginFrom posts the login form with X-Forwarded-For set to addr ("":
// none).
func (c *client) loginFrom(addr, user, password string) (*http.Response, string) {
	c.t.Helper()
	_, page := c.get("/web/login")
	form := url.Values{"csrf": {csrfOf(c.t, page)}, "user": {user}, "password": {password}, "next": {"/web/"}}
	req, _ := http.NewRequest(http.MethodPost, c.base+"/web/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if addr != "" {
		req.Header.Set("X-Forwarded-For", addr)
	}
	return c.do(req)
}

func failures(t *testing.T, b *bundle, key string) int {
	t.Helper()
	return count(t, b.pool, `SELECT coalesce(sum(failures), 0)::int FROM web_login_failures WHERE key = '`+key+`'`)
}

// wantLocked checks a 429 with Retry-After and the Norwegian message.
func wantLocked(t *testing.T, what string, resp *http.Response, body, retryAfter string) {
	t.Helper()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != retryAfter ||
		!strings.Contains(body, "For mange mislykkede innlogginger") {
		t.Errorf("%s: got %d, Retry-After %q, want 429, Retry-After %s and the message", what, resp.StatusCode,
			resp.Header.Get("Retry-After"), retryAfter)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie && ck.Value != "" {
			t.Errorf("%s: a session cookie was set", what)
		}
	}
}

// Five wrong passwords lock the name for 2 s, each further failure
// doubles it; while locked even the right password is refused and nothing
// is counted; a login after the lock clears the name's count.
func TestLoginLockoutPerUser(t *testing.T) {
	t.Parallel()
	clk := newClock()
	var logs lockedBuffer
	b := setup(t, func(c *Config) {
		c.Now = clk.now
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	c := b.client(t)
	for i := 1; i <= userLockAfter; i++ {
		if resp, _ := c.login(testUser, "wrong password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: got %d, want 401", i, resp.StatusCode)
		}
	}
	resp, body := c.login(testUser, testPassword)
	wantLocked(t, "right password while locked", resp, body, "2")
	if n := failures(t, b, "user:"+testUser); n != userLockAfter {
		t.Errorf("failures after a locked attempt: %d, want %d (a locked attempt is not counted)", n, userLockAfter)
	}
	// The operator's log names the user, the address and the counts, and
	// the lock; never a password.
	for _, want := range []string{`msg="web: login refused" user=anna remote=127.0.0.1 address_failures=5 user_failures=5`,
		`msg="web: logins locked after repeated failures" key=user:anna failures=5 locked_for=2s`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no log line %q in:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "wrong password") || strings.Contains(logs.String(), testPassword) {
		t.Errorf("a password is in the log:\n%s", logs.String())
	}
	// Another name from the same address is not locked (20 are needed there).
	if resp, _ := c.login("per", "wrong password"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("another name: got %d, want 401", resp.StatusCode)
	}

	clk.add(2 * time.Second)
	if resp, _ := c.login(testUser, "wrong again"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password after the lock: got %d, want 401", resp.StatusCode)
	}
	resp, body = c.login(testUser, testPassword)
	wantLocked(t, "after the sixth failure", resp, body, "4") // doubled

	clk.add(4 * time.Second)
	if resp, body := c.login(testUser, testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("right password after the lock: got %d\n%s", resp.StatusCode, body)
	}
	if n := failures(t, b, "user:"+testUser); n != 0 {
		t.Errorf("failures after a login: %d, want 0", n)
	}
	// The count starts again: four more failures lock nothing.
	other := b.client(t)
	for i := 1; i < userLockAfter; i++ {
		if resp, _ := other.login(testUser, "wrong password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d after the reset: got %d, want 401", i, resp.StatusCode)
		}
	}
	if resp, _ := other.login(testUser, testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login after 4 new failures: got %d, want 303", resp.StatusCode)
	}
}

// Twenty failures from one address, each with another name, lock that
// address (as X-Forwarded-For of a trusted proxy says it), not others.
func TestLoginLockoutPerAddress(t *testing.T) {
	t.Parallel()
	clk := newClock()
	b := setup(t, func(c *Config) {
		c.Now = clk.now
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	c := b.client(t)
	const guesser, colleague = "198.51.100.7", "198.51.100.8"
	for i := 1; i <= addrLockAfter; i++ {
		name := "gjett" + string(rune('a'+i))
		if resp, _ := c.loginFrom(guesser, name, "wrong password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: got %d, want 401", i, resp.StatusCode)
		}
	}
	if n := failures(t, b, "addr:"+guesser); n != addrLockAfter {
		t.Errorf("failures of the address: %d, want %d", n, addrLockAfter)
	}
	resp, body := c.loginFrom(guesser, testUser, testPassword)
	wantLocked(t, "right password from the locked address", resp, body, "2")

	if resp, body := b.client(t).loginFrom(colleague, testUser, testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login from another address: got %d\n%s", resp.StatusCode, body)
	}
	// A proxy not trusted cannot pick its client's address: its
	// X-Forwarded-For is ignored and the peer (127.0.0.1) is counted.
	untrusted := setup(t, func(c *Config) { c.Now = clk.now })
	uc := untrusted.client(t)
	for i := 1; i <= 3; i++ {
		uc.loginFrom("203.0.113."+string(rune('0'+i)), testUser, "wrong password")
	}
	if n := failures(t, untrusted, "addr:127.0.0.1"); n != 3 {
		t.Errorf("failures counted against the peer: %d, want 3", n)
	}
}

// A lock written by another process (the row in the database) holds here
// too, for the right password, until it ends.
func TestLockedUserRefusedUntilLockEnds(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	if _, err := b.pool.Exec(ctx, `INSERT INTO web_login_failures (key, failures, last_failure, locked_until)
		VALUES ($1, 9, now(), now() + interval '10 minutes')`, "user:"+testUser); err != nil {
		t.Fatal(err)
	}
	c := b.client(t)
	resp, body := c.login(testUser, testPassword)
	if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 590 || ra > 600 {
		t.Errorf("Retry-After %q, want about 600", resp.Header.Get("Retry-After"))
	}
	wantLocked(t, "locked user, right password", resp, body, resp.Header.Get("Retry-After"))
	if !strings.Contains(body, "10 minutter") {
		t.Errorf("the message does not say 10 minutter:\n%s", body)
	}
	if _, err := b.pool.Exec(ctx, `UPDATE web_login_failures SET locked_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if resp, _ := c.login(testUser, testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after the lock ended: got %d, want 303", resp.StatusCode)
	}
}

// While this process's one password check is taken, a login waits at
// most BcryptWait and is then answered 429, unchecked and uncounted.
func TestLoginBusy(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.BcryptWait = 50 * time.Millisecond })
	b.h.bcryptSlot <- struct{}{} // a check in progress
	c := b.client(t)
	resp, body := c.login(testUser, "wrong password")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(body, "Innloggingen er opptatt") {
		t.Errorf("login while busy: got %d, Retry-After %q, want 429 with the message", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if n := count(t, b.pool, `SELECT count(*) FROM web_login_failures`); n != 0 {
		t.Errorf("failure rows after a busy refusal: %d, want 0", n)
	}
	select {
	case <-b.h.bcryptSlot: // the test's check ends
	default:
		t.Fatal("the slot the test held was taken by the login")
	}
	if resp, _ := c.login(testUser, testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login once free: got %d, want 303", resp.StatusCode)
	}
}

func sessionOf(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie && ck.Value != "" {
			return ck
		}
	}
	t.Fatalf("no session cookie in the answer (%d)", resp.StatusCode)
	return nil
}

// getWith requests /web/ on srv with only the given session cookie, as a
// thief holding a copy would.
func getWith(t *testing.T, srv string, ck *http.Cookie) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv+"/web/", nil)
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// second is another worker process on the same database: its own handler,
// the same WEB_SESSION_KEY, users as given.
func (b *bundle) second(t *testing.T, users map[string][]byte) *httptest.Server {
	t.Helper()
	cfg := b.h.cfg
	cfg.Users = users
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// After logout a copy of the session cookie is worthless, in this process
// and in another sharing the database.
func TestCopiedCookieDiesAtLogout(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	other := b.second(t, b.h.users)
	c := b.client(t)
	resp, _ := c.login(testUser, testPassword)
	stolen := sessionOf(t, resp)
	if got := getWith(t, b.srv.URL, stolen); got != http.StatusOK {
		t.Fatalf("copied cookie before logout: got %d, want 200", got)
	}
	if got := getWith(t, other.URL, stolen); got != http.StatusOK {
		t.Fatalf("copied cookie on the other process before logout: got %d, want 200", got)
	}
	_, page := c.get("/web/")
	if resp, _ := c.postForm("/web/logout", url.Values{"csrf": {csrfOf(t, page)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if got := getWith(t, b.srv.URL, stolen); got != http.StatusSeeOther {
		t.Errorf("copied cookie after logout: got %d, want 303 to the login page", got)
	}
	if got := getWith(t, other.URL, stolen); got != http.StatusSeeOther {
		t.Errorf("copied cookie on the other process after logout: got %d, want 303 to the login page", got)
	}
	if n := count(t, b.pool, `SELECT count(*) FROM web_sessions WHERE revoked_at IS NOT NULL AND revoked_why = 'logout'`); n != 1 {
		t.Errorf("revoked sessions: %d, want 1", n)
	}
	// The table holds no id a cookie carries: only its SHA-256.
	enc, _, _ := strings.Cut(stolen.Value, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(enc)
	parts := strings.Split(string(payload), "|")
	id, _ := base64.RawURLEncoding.DecodeString(parts[len(parts)-1])
	sum := sha256.Sum256(id)
	var raw, hashed int
	if err := b.pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE id_hash = $1), count(*) FILTER (WHERE id_hash = $2)
		FROM web_sessions`, id, sum[:]).Scan(&raw, &hashed); err != nil || len(id) != 32 || raw != 0 || hashed != 1 {
		t.Errorf("rows with the raw id %d, with its hash %d (id %d bytes, %v); want 0 and 1", raw, hashed, len(id), err)
	}
}

// A process started with the user's new password ends the sessions opened
// with the old one, for the processes still running the old WEB_USERS too.
func TestCopiedCookieDiesWithPasswordChange(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.client(t)
	resp, _ := c.login(testUser, testPassword)
	stolen := sessionOf(t, resp)
	if got := getWith(t, b.srv.URL, stolen); got != http.StatusOK {
		t.Fatalf("copied cookie before the change: got %d, want 200", got)
	}
	newHash, err := bcrypt.GenerateFromPassword([]byte("et nytt passord"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	restarted := b.second(t, map[string][]byte{testUser: newHash})
	// It ends them as it starts (or, were the database away then, at its
	// first request: here the login page, no cookie).
	if resp, err := http.Get(restarted.URL + "/web/login"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("login page of the restarted process: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if got := getWith(t, b.srv.URL, stolen); got != http.StatusSeeOther {
		t.Errorf("old session on the process with the old WEB_USERS: got %d, want 303", got)
	}
	if got := getWith(t, restarted.URL, stolen); got != http.StatusSeeOther {
		t.Errorf("old session on the process with the new password: got %d, want 303", got)
	}
	if n := count(t, b.pool, `SELECT count(*) FROM web_sessions WHERE revoked_why = 'password changed'`); n != 1 {
		t.Errorf("sessions ended for the password change: %d, want 1", n)
	}
	// A process not yet restarted still takes the old password (it knows
	// no other), but that session is refused where the new one is known.
	late, _ := b.client(t).login(testUser, testPassword)
	if got := getWith(t, restarted.URL, sessionOf(t, late)); got != http.StatusSeeOther {
		t.Errorf("session of the old password, opened after the change: got %d on the restarted process, want 303", got)
	}
	// The new password opens a session on the restarted process.
	nc := &client{t: t, base: restarted.URL, http: b.client(t).http}
	if resp, body := nc.login(testUser, "et nytt passord"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login with the new password: got %d\n%s", resp.StatusCode, body)
	} else if got := getWith(t, restarted.URL, sessionOf(t, resp)); got != http.StatusOK {
		t.Errorf("new session: got %d, want 200", got)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	t.Parallel()
	got, problems := ParseTrustedProxies(" 10.0.0.0/8, 192.0.2.7 ,fd00::/8,, 10.1.2.3/16")
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "fd00::/8", "10.1.0.0/16"}
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	if len(problems) != 0 || !slices.Equal(s, want) {
		t.Errorf("got %v %q, want %v", s, problems, want)
	}
	_, problems = ParseTrustedProxies("10.0.0.0/8,proxy.example.no,10.0.0.0/33")
	if len(problems) != 2 || !strings.Contains(problems[0], `entry 2 ("proxy.example.no")`) || !strings.Contains(problems[1], "entry 3") {
		t.Errorf("problems %q, want entries 2 and 3", problems)
	}
}

func TestClientAddr(t *testing.T) {
	t.Parallel()
	h := &Handler{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}}}
	for _, tc := range []struct {
		remote, xff, want string
	}{
		{"203.0.113.5:4000", "", "203.0.113.5"},
		{"203.0.113.5:4000", "198.51.100.1", "203.0.113.5"},         // untrusted peer: header ignored
		{"10.0.0.2:4000", "198.51.100.1", "198.51.100.1"},           // trusted proxy
		{"10.0.0.2:4000", "1.2.3.4, 198.51.100.1", "198.51.100.1"},  // the client's own claim (1.2.3.4) is not believed
		{"10.0.0.2:4000", "198.51.100.1, 10.9.9.9", "198.51.100.1"}, // a chain of trusted proxies
		{"10.0.0.2:4000", "garbage, 10.9.9.9", "10.9.9.9"},          // garbage: the last vouched-for hop
		{"10.0.0.2:4000", "", "10.0.0.2"},                           // no header: the proxy itself
		{"[fd00::1]:4000", "2001:db8::7", "2001:db8::7"},            // IPv6
		{"[::ffff:10.0.0.2]:4000", "198.51.100.1", "198.51.100.1"},  // v4-mapped peer
	} {
		r := httptest.NewRequest(http.MethodPost, "/web/login", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := h.clientAddr(r).String(); got != tc.want {
			t.Errorf("RemoteAddr %s, X-Forwarded-For %q: got %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
	if got := addrKey(netip.MustParseAddr("2001:db8:1:2:3:4:5:6")); got != "addr:2001:db8:1:2::/64" {
		t.Errorf("IPv6 key %s, want its /64", got)
	}
}

func TestLockFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{{4, 0}, {5, 2 * time.Second}, {6, 4 * time.Second}, {10, 64 * time.Second}, {13, 512 * time.Second}, {14, 15 * time.Minute}, {1000, 15 * time.Minute}} {
		if got := lockFor(tc.failures, 5); got != tc.want {
			t.Errorf("lockFor(%d, 5) = %v, want %v", tc.failures, got, tc.want)
		}
	}
}
