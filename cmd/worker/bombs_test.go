package main

// The bombs of issue 10 uploaded to a running `worker run` (the process
// that also sends orders and takes callbacks): each is refused on the page
// with its limit named, the worker's peak RSS stays under 300 MB, and its
// temporary folder keeps nothing of ours.

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/importers/bombtest"
)

// vmHWM is a process's peak resident set size so far, from the kernel.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmHWM in /proc/%d/status", pid)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

func ourTempDirs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "fpexport-xlsx-") {
			names = append(names, e.Name())
		}
	}
	return names
}

var csrfInPage = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestBombsBoundedInUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("writes gigabyte bombs (a megabyte each on disk)")
	}
	const user, password = "kari", "riktig hest batteri"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	// A killed run's leftover: its process is gone, it is older than the
	// worker's start. The worker removes it when it starts.
	left := bombtest.KilledRunLeftover(t, tmp)

	pe := newProcEnv(t, fpfake.Config{}, map[string]string{
		"TMPDIR":          tmp,
		"WEB_USERS":       user + ":" + string(hash),
		"WEB_SESSION_KEY": "bomb-test-session-key-0123456789abcdef",
		"WEB_UPLOAD_DIR":  t.TempDir(),
	})
	p := pe.start()
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("the killed run's folder is still there after the start (%v)", err)
	}
	base := "http://" + p.listenAddr()

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) string {
		t.Helper()
		resp, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return b.String()
	}
	csrf := func(page string) string {
		t.Helper()
		m := csrfInPage.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no CSRF token in page:\n%.1000s", page)
		}
		return m[1]
	}
	resp, err := hc.PostForm(base+"/web/login", url.Values{"csrf": {csrf(get("/web/login"))}, "user": {user}, "password": {password}, "next": {"/web/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	token := csrf(get("/web/upload"))

	// An upload is bounded in size itself: its CSV line is 20 MB.
	bombs := bombtest.Bombs(20 << 20)
	dir := t.TempDir()
	for _, b := range bombs {
		path := filepath.Join(dir, b.File)
		if err := b.Write(path); err != nil {
			t.Fatal(err)
		}
		content, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("csrf", token)
		_ = mw.WriteField("kind", "invoice")
		_ = mw.WriteField("profile", "")
		fw, _ := mw.CreateFormFile("file", b.File)
		_, _ = fw.Write(content)
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, base+"/web/upload", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", b.File, err)
		}
		var page bytes.Buffer
		page.ReadFrom(resp.Body)
		resp.Body.Close()
		hwm := vmHWM(t, p.cmd.Process.Pid)
		t.Logf("%s (%d KB): %d, worker peak RSS so far %d MB", b.File, len(content)>>10, resp.StatusCode, hwm>>20)
		text := htmlUnescape(page.String())
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text, b.Want) {
			t.Errorf("%s: %d, want 422 saying %q; page:\n%.3000s", b.File, resp.StatusCode, b.Want, text)
		}
		if hwm >= bombtest.PeakRSSBound {
			t.Errorf("%s: the worker's peak RSS is %d MB, bound %d MB", b.File, hwm>>20, bombtest.PeakRSSBound>>20)
		}
		if names := ourTempDirs(t, tmp); len(names) > 0 {
			t.Errorf("%s: left in the worker's temporary folder: %v", b.File, names)
		}
	}
	var n int
	if err := pe.pool.QueryRow(t.Context(), `SELECT count(*) FROM orders`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d orders (%v), want none", n, err)
	}
}

// htmlUnescape undoes what html/template escapes in text.
func htmlUnescape(s string) string {
	return strings.NewReplacer("&#34;", `"`, "&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`).Replace(s)
}
