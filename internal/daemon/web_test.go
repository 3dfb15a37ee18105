package daemon_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/daemon/daemontest"
	"github.com/frontpayment/fpexport/internal/fpfake"
)

// chromiumPath is Debian's chromium, which .ci/run installs when missing.
const chromiumPath = "/usr/bin/chromium"

// TestWebPageInBrowser drives the accountants' page in a real headless
// Chromium against the whole worker (Postgres, River, the FP simulator over
// loopback): log in, upload a sample with rejected rows, read the dry run,
// confirm, watch the batch page (it reloads itself) until every order has
// reached FP, and download the report. Each page is kept as a full-page
// screenshot in $WEB_ARTEFACTS (default testdata/artefacts).
func TestWebPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is missing (apt-get install chromium; .ci/run does it): browser test skipped", chromiumPath)
	}
	t.Parallel()
	const user, password = "kari", "riktig hest batteri"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	s := startStackWith(t, fpfake.Config{CallbackDelay: 300 * time.Millisecond}, func(c *daemon.Config) {
		c.AllowTestIDs = true // the samples use synthetic test personal numbers
		c.Web = daemon.WebConfig{Users: map[string][]byte{user: hash}, SessionKey: "browser-test-session-key-0123456789",
			MaxUpload: 32 << 20, UploadDir: t.TempDir(), ProfileDir: "../../samples"}
	})
	base := "http://" + s.Cfg.ListenAddr
	artefacts := artefactDir(t)
	downloads := t.TempDir()
	sample, err := filepath.Abs("../../samples/orders.csv") // 9 valid orders, 3 rejected rows
	if err != nil {
		t.Fatal(err)
	}

	ctx := newBrowser(t)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(sel chromedp.CSS) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return strings.TrimSpace(v)
	}
	location := func() string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	shot := func(name string) {
		t.Helper()
		// A screenshot taken while the page's meta refresh reloads it can
		// wait for ever (seen in CI: the whole 3 minutes on the batches
		// page); the picture is an artefact, so try again on a fresh frame.
		var png []byte
		var err error
		for range 3 {
			shotCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
			png, err = chromedp.Run(shotCtx, chromedp.FullScreenshot(100))
			cancel()
			if err == nil || ctx.Err() != nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(artefacts, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Every page needs a login: the page sends the browser there.
	do("open the page", chromedp.EmulateViewport(1366, 768), chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("password")))
	if loc := location(); !strings.Contains(loc, "/web/login") {
		t.Fatalf("not sent to the login page: %s", loc)
	}
	shot("01-login")
	do("log in", chromedp.SendKeys(chromedp.ID("user"), user), chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("main h1")))
	shot("02-batches-empty")

	// Upload: the dry run shows counts, totals and each rejected row with its reason.
	do("upload form", chromedp.Navigate(base+"/web/upload"), chromedp.WaitVisible(chromedp.ID("file")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{sample}))
	shot("03-upload")
	do("dry run", chromedp.Click(chromedp.CSS(`form.upload button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("dry-rows")))
	shot("04-dry-run")
	rows, orders, rejected, body := text("#dry-rows"), text("#dry-orders"), text("#dry-rejected"), text("main")
	if rows != "18" || orders != "9" || rejected != "3" {
		t.Errorf("dry run: rows %s, orders %s, rejected rows %s; want 18, 9, 3", rows, orders, rejected)
	}
	for _, want := range []string{"trude.odegard.example.com", "not a valid e-mail address", "not an allowed VAT rate"} {
		if !strings.Contains(body, want) {
			t.Errorf("dry run page lacks %q", want)
		}
	}
	if n := countRows(t, s, `SELECT count(*) FROM batches`); n != 0 {
		t.Fatalf("the dry run recorded %d batches", n)
	}

	// Confirm: to the batch page, which reloads itself until FP has them all.
	do("confirm", chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.ID("status-counts")))
	shot("05-batch-just-imported")
	loc := location()
	m := regexp.MustCompile(`/web/batches/(\d+)\?imported=1$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("confirm led to %s, not a batch page", loc)
	}
	counts := waitAllSubmitted(t, ctx, 9)
	t.Logf("batch %s: %v", m[1], counts)
	shot("06-batch-submitted")

	// The report for today, downloaded by the browser, holds the 9 orders.
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: new(true)}); err != nil {
		t.Fatal(err)
	}
	dlCtx, dlCancel := context.WithTimeout(ctx, time.Minute)
	defer dlCancel()
	progress := chromedp.BrowserEvents(dlCtx, browser.DownloadProgress) // subscribed before the click
	do("download the report", chromedp.Click(chromedp.ID("report-xlsx")))
	var guid string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("the report download did not complete: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		}
	}
	data, err := os.ReadFile(filepath.Join(downloads, guid))
	if err != nil {
		t.Fatal(err)
	}
	refs := reportRefs(t, data)
	if len(refs) != 9 || !slices.Contains(refs, "SO-1001") {
		t.Errorf("report orders %v, want the 9 valid orders", refs)
	}

	// The remaining pages, for the eye: the list, the report form, Norwegian.
	do("batch list", chromedp.Navigate(base+"/web/"), chromedp.WaitVisible(chromedp.CSS("table.batches")))
	shot("07-batches")
	do("reports page", chromedp.Navigate(base+"/web/reports"), chromedp.WaitVisible(chromedp.ID("from")))
	shot("08-reports")
	// What needs attention: the import's rejected rows, counted in the
	// navigation; then one order found and its history.
	do("attention page", chromedp.Navigate(base+"/web/attention?lang=en"), chromedp.WaitVisible(chromedp.ID("r-rejected_rows")))
	if n := text("#nav-attention .count"); n == "" || n == "0" {
		t.Errorf("navigation counts %q open items, want the rejected rows' item", n)
	}
	shot("08a-attention")
	do("find an order", chromedp.Navigate(base+"/web/orders?q=SO-1001"), chromedp.WaitVisible(chromedp.CSS("table.orders")),
		chromedp.Click(chromedp.CSS(`table.orders a[href^="/web/orders/"]`)), chromedp.WaitVisible(chromedp.ID("history")))
	if h1, hist := text("main h1"), text("#history"); !strings.Contains(h1, "SO-1001") || !strings.Contains(hist, "Sent to FP") {
		t.Errorf("order page: %q, history %q; want SO-1001 with its request to FP", h1, hist)
	}
	shot("08b-order")
	do("batch page in Norwegian", chromedp.Navigate(base+"/web/batches/"+m[1]+"?lang=no"), chromedp.WaitVisible(chromedp.ID("status-counts")))
	if h1 := text("main h1"); !strings.HasPrefix(h1, "Import "+m[1]) || !strings.Contains(text("main"), "Avviste rader") {
		t.Errorf("?lang=no did not give the Norwegian page: %q", h1)
	}
	shot("09-batch-norsk")
	do("batch list in Norwegian", chromedp.Navigate(base+"/web/"), chromedp.WaitVisible(chromedp.CSS("table.batches")))
	shot("10-batches-norsk")
	t.Logf("screenshots in %s", artefacts)
}

// newBrowser starts /usr/bin/chromium headless with exactly the flags this
// offline machine needs and a fresh profile.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancel)
	return ctx
}

func artefactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WEB_ARTEFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artefacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

var statusCount = regexp.MustCompile(`data-status="([a-z_]+)"[^>]*>[^<]*<strong>(\d+)</strong>`)

// waitAllSubmitted reads the batch page's live counts (the page reloads
// itself) until n orders have reached FP: none queued or submitting. It
// polls; the deadline is generous, never a fixed sleep.
func waitAllSubmitted(t *testing.T, ctx context.Context, n int) map[string]int {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var counts map[string]int
	for time.Now().Before(deadline) {
		step, cancel := context.WithTimeout(ctx, 5*time.Second)
		html, err := chromedp.Run(step, chromedp.OuterHTML(chromedp.ID("status-counts")))
		cancel()
		if err == nil { // a reload in progress fails the read: try again
			counts = map[string]int{}
			total := 0
			for _, m := range statusCount.FindAllStringSubmatch(html, -1) {
				c, _ := strconv.Atoi(m[2])
				counts[m[1]] = c
				total += c
			}
			if total == n && counts["queued"] == 0 && counts["submitting"] == 0 {
				return counts
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("browser gone while waiting: %v", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
	t.Fatalf("the batch page still shows %v after 2 minutes; want %d orders past queued and submitting", counts, n)
	return nil
}

// reportRefs reads the order references of a reconciliation XLSX.
func reportRefs(t *testing.T, data []byte) []string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the downloaded report is not XLSX (%d bytes, %q…): %v", len(data), http.DetectContentType(data), err)
	}
	defer f.Close()
	rows, err := f.GetRows("Orders")
	if err != nil || len(rows) == 0 {
		t.Fatalf("report without an Orders sheet: %v", err)
	}
	col := slices.Index(rows[0], "Order ref")
	if col < 0 {
		t.Fatalf("Orders header %q lacks Order ref", rows[0])
	}
	var refs []string
	for _, r := range rows[1:] {
		if col < len(r) && r[col] != "" {
			refs = append(refs, r[col])
		}
	}
	return refs
}

func countRows(t *testing.T, s *stack, sql string) int {
	t.Helper()
	var n int
	if err := s.Pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The WEB_* settings: each mistake one line, no hash or key echoed.
func TestWebSettings(t *testing.T) {
	t.Parallel()
	hash, _ := bcrypt.GenerateFromPassword([]byte("a password"), bcrypt.MinCost)
	cfg, err := daemon.LoadConfig(daemontest.Env(map[string]string{
		"WEB_USERS": "anna:" + string(hash) + ",per:not-a-hash-secret", "WEB_SESSION_KEY": "too-short-key",
		"WEB_MAX_UPLOAD": "lots", "WEB_COOKIE_SECURE": "perhaps", "WEB_PROFILE_DIR": "no/such/folder",
	}), daemon.Need{Web: true})
	if err == nil {
		t.Fatal("bad WEB_ settings accepted")
	}
	for _, want := range []string{"WEB_USERS: user per: the hash is not a bcrypt hash", "WEB_SESSION_KEY: must be at least 32",
		"WEB_MAX_UPLOAD: must be", "WEB_COOKIE_SECURE: must be", "WEB_PROFILE_DIR: no/such/folder is not a folder"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no line %q in:\n%s", want, err)
		}
	}
	for _, secret := range []string{"not-a-hash-secret", "too-short-key", string(hash)} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows %q", secret)
		}
	}
	if len(cfg.Web.Users) != 1 {
		t.Errorf("users read: %d, want anna's", len(cfg.Web.Users))
	}

	cfg, err = daemon.LoadConfig(daemontest.Env(map[string]string{"WEB_MAX_UPLOAD": "512KB", "WEB_PROFILE_DIR": "../../samples"}), daemon.Need{Web: true})
	if err != nil || cfg.Web.MaxUpload != 512<<10 || len(cfg.Web.Users) != 0 || cfg.Web.ProfileDir != "../../samples" {
		t.Errorf("good settings: %v, %+v", err, cfg.Web)
	}
	if cfg, _ := daemon.LoadConfig(daemontest.Env(nil), daemon.Need{Web: true}); cfg.Web.MaxUpload != 32<<20 {
		t.Errorf("default WEB_MAX_UPLOAD %d, want 32 MB", cfg.Web.MaxUpload)
	}
}

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
