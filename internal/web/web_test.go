package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/xuri/excelize/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/frontpayment/fpexport/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Run(m)) }

const (
	testUser     = "anna"
	testPassword = "riktig hest batteri"
)

// bundle is a page on a fresh database, served over loopback.
type bundle struct {
	pool *pgxpool.Pool
	h    *Handler
	srv  *httptest.Server
}

func setup(t *testing.T, adjust func(*Config)) *bundle {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	// An insert-only River client, as enqueue's: the submit jobs are only
	// recorded here, nothing works them.
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/Oslo")
	cfg := Config{Pool: pool, River: rc, Users: map[string][]byte{testUser: hash}, SessionKey: []byte("test-session-key-0123456789abcdef"),
		UploadDir: t.TempDir(), ProfileDir: "../../samples", AllowTestIDs: true, Location: loc,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if adjust != nil {
		adjust(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &bundle{pool: pool, h: h, srv: srv}
}

// client is a browser without JavaScript: cookies, no redirects followed
// (the tests look at each answer).
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func (b *bundle) client(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: b.srv.URL, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(req *http.Request) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, string(body)
}

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	return c.do(req)
}

func (c *client) postForm(path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// upload posts the upload form with a file's bytes.
func (c *client) upload(csrf, kind, profile, name string, content []byte) (*http.Response, string) {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf)
	_ = mw.WriteField("kind", kind)
	_ = mw.WriteField("profile", profile)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.base+"/web/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return c.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, html string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", html)
	}
	return m[1]
}

// login logs in and returns the session's CSRF token.
func (c *client) login(user, password string) (*http.Response, string) {
	c.t.Helper()
	_, page := c.get("/web/login")
	return c.postForm("/web/login", url.Values{"csrf": {csrfOf(c.t, page)}, "user": {user}, "password": {password}, "next": {"/web/"}})
}

func (c *client) mustLogin() string {
	c.t.Helper()
	resp, body := c.login(testUser, testPassword)
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	_, page := c.get("/web/upload")
	return csrfOf(c.t, page)
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func count(t *testing.T, pool *pgxpool.Pool, sql string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLoginRequired(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.client(t)
	for _, path := range []string{"/web/", "/web/upload", "/web/batches/1", "/web/reports", "/web/reports/reconciliation?format=csv"} {
		resp, _ := c.get(path)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/web/login?next=") {
			t.Errorf("GET %s: got %d to %q, want 303 to the login page", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, _ := c.postForm("/web/confirm", url.Values{"sha256": {strings.Repeat("a", 64)}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/web/login") {
		t.Errorf("POST /web/confirm: got %d to %q, want 303 to the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A forged session cookie is no session.
	u, _ := url.Parse(b.srv.URL + "/web/")
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "djF8YW5uYXw5OTk5OTk5OTk5fHg.forged", Path: "/web/"}})
	if resp, _ := c.get("/web/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("forged session: got %d, want 303 to login", resp.StatusCode)
	}
	// The static files need no login (the login page uses them).
	if resp, body := c.get("/web/static/style.css"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "body") {
		t.Errorf("style.css: got %d", resp.StatusCode)
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.client(t)
	for _, tc := range []struct{ user, password string }{
		{testUser, "wrong password"},
		{"nobody", testPassword},
		{testUser, ""},
	} {
		resp, body := c.login(tc.user, tc.password)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, label("no", "login.failed")) {
			t.Errorf("login %s/%q: got %d, want 401 with the message", tc.user, tc.password, resp.StatusCode)
		}
		for _, ck := range resp.Cookies() {
			if ck.Name == sessionCookie {
				t.Errorf("login %s/%q: a session cookie was set", tc.user, tc.password)
			}
		}
		if resp, _ := c.get("/web/"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("after a refused login: GET /web/ got %d, want 303", resp.StatusCode)
		}
	}
	resp, _ := c.login(testUser, testPassword)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/web/" {
		t.Fatalf("login: got %d to %q, want 303 to /web/", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax", session)
	}
	resp, body := c.get("/web/")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, testUser) {
		t.Fatalf("GET /web/ after login: %d", resp.StatusCode)
	}
	// Logging out ends the session.
	resp, _ = c.postForm("/web/logout", url.Values{"csrf": {csrfOf(t, body)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := c.get("/web/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout: GET /web/ got %d, want 303", resp.StatusCode)
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)

	// The login form itself: without the token tied to its cookie, refused.
	anon := b.client(t)
	resp, _ := anon.postForm("/web/login", url.Values{"user": {testUser}, "password": {testPassword}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without token: got %d, want 403", resp.StatusCode)
	}

	c := b.client(t)
	csrf := c.mustLogin()
	other := b.client(t)
	otherCSRF := other.mustLogin() // a token of another session is not this one's

	wrong := "x" + csrf[1:]
	if wrong == csrf { // the token began with x: then change it otherwise
		wrong = "y" + csrf[1:]
	}
	for name, token := range map[string]string{"missing": "", "wrong": wrong, "another session's": otherCSRF} {
		resp, _ := c.postForm("/web/confirm", url.Values{"csrf": {token}, "sha256": {strings.Repeat("a", 64)}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("confirm with %s token: got %d, want 403", name, resp.StatusCode)
		}
		resp, _ = c.upload(token, "", "", "orders.csv", sample(t, "orders.csv"))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("upload with %s token: got %d, want 403", name, resp.StatusCode)
		}
		resp, _ = c.postForm("/web/logout", url.Values{"csrf": {token}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("logout with %s token: got %d, want 403", name, resp.StatusCode)
		}
	}
	// A multipart form elsewhere than the upload is checked all the same.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("sha256", strings.Repeat("a", 64))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+"/web/confirm", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if resp, _ := c.do(req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("multipart confirm without token: got %d, want 403", resp.StatusCode)
	}
	if n := count(t, b.pool, `SELECT count(*) FROM batches`); n != 0 {
		t.Errorf("batches after refused forms: %d, want 0", n)
	}
	// With the right token the same upload is taken.
	if resp, body := c.upload(csrf, "", "", "orders.csv", sample(t, "orders.csv")); resp.StatusCode != http.StatusOK {
		t.Errorf("upload with the right token: got %d\n%s", resp.StatusCode, body)
	}
}

func TestUploadTooLarge(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.MaxUpload = 1 << 10 })
	c := b.client(t)
	csrf := c.mustLogin()
	big := sample(t, "orders.csv") // about 4 KB
	if len(big) <= 1<<10 {
		t.Fatalf("sample too small for the test: %d bytes", len(big))
	}
	resp, body := c.upload(csrf, "", "", "orders.csv", big)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "1 KB") {
		t.Errorf("got %d, want 413 naming the limit\n%s", resp.StatusCode, body)
	}
	// Far beyond the limit, the body itself is cut off (MaxBytesReader).
	resp, _ = c.upload(csrf, "", "", "orders.csv", bytes.Repeat(big, 100))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a much larger file: got %d, want 413", resp.StatusCode)
	}
	entries, _ := os.ReadDir(b.h.cfg.UploadDir)
	if len(entries) != 0 {
		t.Errorf("upload folder after refused uploads holds %d entries, want none", len(entries))
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.client(t)
	csrf := c.mustLogin()
	resp, body := c.upload(csrf, "", "", "orders.csv", sample(t, "orders.csv"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("upload: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{
		`<dd id="dry-rows">18</dd>`, `<dd id="dry-orders">9</dd>`, `<dd id="dry-rejected">3</dd>`,
		"trude.odegard.example.com", "ikke en gyldig e-postadresse", // a rejected row, its value and reason, in the page's language
		"15\u00a0074,50",        // the invoices' total in NOK
		`name="sha256" value="`, // the confirm form
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dry run page lacks %q", want)
		}
	}
	for _, table := range []string{"batches", "orders", "rejected_rows", "river_job", "order_events"} {
		if n := count(t, b.pool, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("after a dry run %s has %d rows, want 0", table, n)
		}
	}
	// The error file of the dry run: the reasons first, then the input's columns.
	sha := regexp.MustCompile(`name="sha256" value="([0-9a-f]{64})"`).FindStringSubmatch(body)[1]
	resp, ef := c.get("/web/uploads/" + sha + "/errors")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("error file: %d", resp.StatusCode)
	}
	recs := readCSV(t, ef)
	if len(recs) != 4 || recs[0][0] != "errors" || recs[0][2] != "source_row" || recs[0][3] != "order_ref" || recs[1][2] != "17" {
		t.Errorf("error file: %q", recs)
	}
}

func TestProfileAndKindChoices(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.client(t)
	csrf := c.mustLogin()
	_, page := c.get("/web/upload")
	for _, want := range []string{`value="ordrer-norsk.profile.json"`, `value="payment-link"`} {
		if !strings.Contains(page, want) {
			t.Errorf("upload page lacks the choice %s", want)
		}
	}
	resp, body := c.upload(csrf, "", "ordrer-norsk.profile.json", "ordrer-norsk.csv", sample(t, "ordrer-norsk.csv"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<dd id="dry-orders">9</dd>`) {
		t.Errorf("Norwegian file with its profile: %d\n%s", resp.StatusCode, body)
	}
	// An XLSX: its error file is an XLSX too, and the column shows as the file names it.
	resp, body = c.upload(csrf, "", "faktura-norsk.profile.json", "faktura-norsk.xlsx", sample(t, "faktura-norsk.xlsx"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<dd id="dry-orders">4</dd>`) ||
		!strings.Contains(body, "<td>Organisasjonsnummer</td>") || strings.Contains(body, "organization_id") {
		t.Fatalf("XLSX with its profile: %d\n%s", resp.StatusCode, body)
	}
	sha := regexp.MustCompile(`name="sha256" value="([0-9a-f]{64})"`).FindStringSubmatch(body)[1]
	resp, x := c.get("/web/uploads/" + sha + "/errors")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "faktura-norsk.errors.xlsx") {
		t.Fatalf("XLSX error file: %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	if f, err := excelize.OpenReader(strings.NewReader(x)); err != nil {
		t.Errorf("XLSX error file does not open: %v", err)
	} else {
		f.Close()
	}
	// Only listed profiles: no path of the server's choosing.
	resp, _ = c.upload(csrf, "", "../../go.mod", "ordrer-norsk.csv", sample(t, "ordrer-norsk.csv"))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unlisted profile: got %d, want 400", resp.StatusCode)
	}
	resp, _ = c.upload(csrf, "refund", "", "orders.csv", sample(t, "orders.csv"))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown kind: got %d, want 400", resp.StatusCode)
	}
	resp, _ = c.upload(csrf, "", "", "orders.pdf", []byte("%PDF"))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a .pdf: got %d, want 400", resp.StatusCode)
	}
	// A file missing a required column is refused whole, with the reason.
	resp, body = c.upload(csrf, "", "", "bad.csv", []byte("order_ref,customer_name\nA-1,Kari\n"))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "bad.csv: overskriftsraden: mangler påkrevde kolonner") {
		t.Errorf("file without required columns: got %d\n%s", resp.StatusCode, body)
	}
}

func TestConfirmImportsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.client(t)
	csrf := c.mustLogin()
	_, body := c.upload(csrf, "", "", "orders.csv", sample(t, "orders.csv"))
	sha := regexp.MustCompile(`name="sha256" value="([0-9a-f]{64})"`).FindStringSubmatch(body)[1]
	confirm := url.Values{"csrf": {csrf}, "sha256": {sha}, "kind": {""}, "profile": {""}}

	resp, _ := c.postForm("/web/confirm", confirm)
	loc := resp.Header.Get("Location")
	m := regexp.MustCompile(`^/web/batches/(\d+)\?imported=1$`).FindStringSubmatch(loc)
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("confirm: got %d to %q, want 303 to the batch", resp.StatusCode, loc)
	}
	if n := count(t, b.pool, `SELECT count(*) FROM orders`); n != 9 {
		t.Errorf("orders: %d, want 9", n)
	}
	if n := count(t, b.pool, `SELECT count(*) FROM river_job WHERE kind = 'submit_order'`); n != 9 {
		t.Errorf("submit jobs: %d, want 9", n)
	}
	if n := count(t, b.pool, `SELECT count(DISTINCT row_no) FROM rejected_rows`); n != 3 {
		t.Errorf("rejected rows: %d, want 3", n)
	}

	// The same file again is recognised by its bytes: nothing imported twice.
	resp, _ = c.postForm("/web/confirm", confirm)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/web/batches/"+m[1]+"?duplicate=1" {
		t.Fatalf("second confirm: got %d to %q, want 303 to batch %s as a duplicate", resp.StatusCode, resp.Header.Get("Location"), m[1])
	}
	if n := count(t, b.pool, `SELECT count(*) FROM batches`); n != 1 {
		t.Errorf("batches after two confirms: %d, want 1", n)
	}
	if n := count(t, b.pool, `SELECT count(*) FROM river_job`); n != 9 {
		t.Errorf("jobs after two confirms: %d, want 9", n)
	}
	_, page := c.get("/web/batches/" + m[1] + "?duplicate=1")
	if !strings.Contains(page, label("no", "batch.duplicate")) {
		t.Errorf("batch page after a duplicate confirm does not say so")
	}
	// And a dry run of it says so before anyone confirms.
	_, body = c.upload(csrf, "", "", "orders.csv", sample(t, "orders.csv"))
	if !strings.Contains(body, "/web/batches/"+m[1]) {
		t.Errorf("dry run of an imported file does not name its batch")
	}

	// The batch page: its orders, live counts, the rejected rows.
	resp, page = c.get("/web/batches/" + m[1] + "?lang=en")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("batch page: %d", resp.StatusCode)
	}
	for _, want := range []string{"SO-1001", "Kari Nordmann", `data-status="queued"`, "Queued: <strong>9</strong>",
		"not a valid e-mail address", `http-equiv="refresh" content="5; url=/web/batches/` + m[1] + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("batch page lacks %q", want)
		}
	}
	if strings.Contains(page, "12838512311") {
		t.Errorf("batch page shows a full personal number")
	}
	// The list shows it too.
	if _, list := c.get("/web/"); !strings.Contains(list, "orders.csv") || !strings.Contains(list, `href="/web/batches/`+m[1]+`"`) {
		t.Errorf("batch list lacks the batch")
	}

	// Its error file: the one written at the import, in the input's format.
	resp, ef := c.get("/web/batches/" + m[1] + "/errors")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "orders.errors.csv") {
		t.Fatalf("error file: %d %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	if recs := readCSV(t, ef); len(recs) != 4 || recs[0][3] != "order_ref" {
		t.Errorf("error file: %q", recs)
	}
	// Without the kept upload, it is made from the stored rejected rows:
	// the same whole rows, in the input's format.
	if err := os.RemoveAll(filepath.Join(b.h.cfg.UploadDir, sha)); err != nil {
		t.Fatal(err)
	}
	resp, ef = c.get("/web/batches/" + m[1] + "/errors")
	if recs := readCSV(t, ef); resp.StatusCode != http.StatusOK || len(recs) != 4 || recs[0][3] != "order_ref" || recs[1][2] != "17" ||
		recs[1][7] != "trude.odegard.example.com" || !strings.Contains(resp.Header.Get("Content-Disposition"), "orders.errors.csv") {
		t.Errorf("error file from stored rows: %d %q", resp.StatusCode, recs)
	}

	// The report for today, as XLSX, holds the batch's orders.
	today := time.Now().In(b.h.cfg.Location).Format(time.DateOnly)
	resp, x := c.get("/web/reports/reconciliation?from=" + today + "&to=" + today + "&format=xlsx")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("report: %d %s", resp.StatusCode, x)
	}
	if refs := xlsxOrderRefs(t, []byte(x)); len(refs) != 9 || !refs["SO-1001"] {
		t.Errorf("report orders: %v, want the 9 orders", refs)
	}
	// One CSV part, in the page's language (English here; the report alone
	// would be in Norwegian).
	resp, v := c.get("/web/reports/reconciliation?from=" + today + "&to=" + today + "&format=csv&part=vat")
	if recs := readCSV(t, v); resp.StatusCode != http.StatusOK || len(recs) < 6 || recs[0][0] != "VAT rate (%)" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "-vat.csv") {
		t.Errorf("VAT part: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Disposition"), recs)
	}
	if resp, page := c.get("/web/reports"); resp.StatusCode != http.StatusOK || !strings.Contains(page, `name="part"`) ||
		!strings.Contains(page, ">VAT<") {
		t.Errorf("reports page offers no parts: %d", resp.StatusCode)
	}
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	s = strings.TrimPrefix(s, "\ufeff")
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	head, _, _ := strings.Cut(s, "\n")
	if strings.Count(head, ";") > strings.Count(head, ",") {
		r.Comma = ';'
	}
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("error file is not CSV: %v\n%s", err, s)
	}
	return recs
}

// xlsxOrderRefs reads the order references of a report's Orders sheet.
func xlsxOrderRefs(t *testing.T, data []byte) map[string]bool {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("report is not XLSX: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("Orders")
	if err != nil || len(rows) == 0 {
		t.Fatalf("report has no Orders sheet: %v", err)
	}
	col := slices.Index(rows[0], "Order ref")
	if col < 0 {
		t.Fatalf("Orders sheet header %q has no Order ref", rows[0])
	}
	refs := map[string]bool{}
	for _, r := range rows[1:] {
		if col < len(r) && r[col] != "" {
			refs[r[col]] = true
		}
	}
	return refs
}

func TestLabelsComplete(t *testing.T) {
	t.Parallel()
	for lang, m := range labels {
		for other, om := range labels {
			for k := range m {
				if _, ok := om[k]; !ok {
					t.Errorf("label %q is in %s but not in %s", k, lang, other)
				}
			}
		}
	}
	// Every label a template asks for exists.
	used := regexp.MustCompile(`\.Lf? "([a-z_.]+)"`)
	names, _ := fs.Glob(templateFS, "templates/*.html")
	for _, n := range names {
		data, err := templateFS.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range used.FindAllStringSubmatch(string(data), -1) {
			if _, ok := labels["no"][m[1]]; !ok {
				t.Errorf("%s uses label %q, which does not exist", n, m[1])
			}
		}
	}
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]string{
		"":                           "no",
		"nb-NO,nb;q=0.9,en;q=0.8":    "no",
		"en-GB,en;q=0.9":             "en",
		"de-DE,de;q=0.9,en;q=0.5":    "en",
		"nn":                         "no",
		"fr":                         "no",
		"en-US,en;q=0.9,nb;q=0.8,no": "en",
	} {
		if got := fromAcceptLanguage(header); got != want {
			t.Errorf("Accept-Language %q: got %s, want %s", header, got, want)
		}
	}
	b := setup(t, nil)
	c := b.client(t)
	c.mustLogin()
	if _, page := c.get("/web/?lang=en"); !strings.Contains(page, "Imports") {
		t.Errorf("?lang=en did not give English")
	}
	if _, page := c.get("/web/"); !strings.Contains(page, "Imports") {
		t.Errorf("the language choice was not remembered")
	}
	if _, page := c.get("/web/?lang=no"); !strings.Contains(page, "Importer") || !strings.Contains(page, "Avstemming") {
		t.Errorf("?lang=no did not give Norwegian")
	}
}

func TestParseUsers(t *testing.T) {
	t.Parallel()
	hash, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	users, problems := ParseUsers("anna:" + string(hash) + ", per:" + string(hash))
	if len(problems) != 0 || len(users) != 2 {
		t.Fatalf("got %d users, problems %q", len(users), problems)
	}
	_, problems = ParseUsers("anna:plaintext,per," + "anna:" + string(hash) + ",anna:" + string(hash))
	if len(problems) != 3 {
		t.Fatalf("problems %q, want 3 (not bcrypt, no hash, twice)", problems)
	}
	for _, p := range problems {
		if strings.Contains(p, "plaintext") {
			t.Errorf("a problem shows the hash: %q", p)
		}
	}
	if _, err := New(Config{}); err == nil {
		t.Errorf("New without users: no error; the page must never be served without a login")
	}
}
