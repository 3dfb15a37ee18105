package daemon_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river"
	"golang.org/x/crypto/bcrypt"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/jobargs"
	"github.com/frontpayment/fpexport/internal/web"
)

// TestRiverUIInBrowser opens River's own UI in a real headless Chromium
// against the whole worker: River UI sends the browser to the page's
// login, an admin logs in, lands on River UI and sees a submit job in its
// jobs list; a viewer who logs in gets 403. Screenshots in $WEB_ARTEFACTS.
func TestRiverUIInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is missing (apt-get install chromium; .ci/run does it): browser test skipped", chromiumPath)
	}
	t.Parallel()
	const password = "riktig hest batteri"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	s := startStackWith(t, fpfake.Config{}, func(c *daemon.Config) {
		c.Web = daemon.WebConfig{Users: map[string][]byte{"anna": hash, "vera": hash},
			Roles:      map[string]web.Role{"anna": web.RoleAdmin, "vera": web.RoleViewer},
			SessionKey: "browser-test-session-key-0123456789", MaxUpload: 32 << 20, UploadDir: t.TempDir()}
	})
	// A submit job the running worker leaves alone for an hour: it stays
	// in the list.
	if _, err := s.D.River().Insert(context.Background(), jobargs.SubmitOrderArgs{OrderID: 424242, Version: 1},
		&river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.Cfg.ListenAddr
	artefacts := artefactDir(t)

	ctx := newBrowser(t)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(artefacts, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// waitText polls the page's text until it holds want (River UI renders
	// in the browser, after its API answers): a deadline, no fixed sleep.
	waitText := func(want string) string {
		t.Helper()
		var body string
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
			v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			if err == nil {
				if body = v; strings.Contains(body, want) {
					return body
				}
			}
			select { // the next look, or the test's end
			case <-time.After(200 * time.Millisecond):
			case <-ctx.Done():
				t.Fatalf("waiting for %q: %v", want, ctx.Err())
			}
		}
		t.Fatalf("the page never showed %q; it shows:\n%.2000s", want, body)
		return ""
	}
	login := func(user string) {
		t.Helper()
		do("open River UI", chromedp.Navigate(base+"/web/river/jobs?state=scheduled"), chromedp.WaitVisible(chromedp.ID("password")))
		do("log in as "+user, chromedp.SendKeys(chromedp.ID("user"), user), chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Click(chromedp.CSS(`form button[type="submit"]`)))
	}

	do("viewport", chromedp.EmulateViewport(1366, 768))
	login("anna")
	waitText("submit_order")
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(loc, "/web/river/") {
		t.Errorf("after the login the browser is at %s (%v), want River UI", loc, err)
	}
	shot("20-river-ui-jobs")

	viewer := newBrowser(t)
	viewer, cancelViewer := context.WithTimeout(viewer, time.Minute)
	defer cancelViewer()
	ctx = viewer
	login("vera")
	waitText("River UI is for admins only")
	shot("21-river-ui-viewer-403")
}
