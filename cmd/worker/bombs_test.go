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
	"os/exec"
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

// peakRSSBound is the memory bound issue 10 sets for a reading process.
const peakRSSBound = 300 << 20

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
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip(err)
	}
	left := filepath.Join(tmp, "fpexport-xlsx-"+strconv.Itoa(gone.ProcessState.Pid())+"-42")
	if err := os.MkdirAll(left, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(left, "excelize-1"), make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Minute)
	if err := os.Chtimes(left, past, past); err != nil {
		t.Fatal(err)
	}

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

	const gb11 = 1100 << 20
	bombs := []struct {
		file  string
		write func(string) error
		want  string
	}{
		{"celle.xlsx", func(p string) error { return bombtest.CellXLSX(p, gb11) }, "celle.xlsx row 2, column C: cellen er over grensen på 32 KB"},
		{"celle400.xlsx", func(p string) error { return bombtest.CellXLSX(p, 400<<20) }, "celle400.xlsx row 2, column C: cellen er over grensen på 32 KB"},
		{"delte.xlsx", func(p string) error { return bombtest.SharedStringsXLSX(p, gb11) }, "delte.xlsx: tabellen over delte tekster (xl/sharedStrings.xml) er 1100 MB ukomprimert"},
		{"delte200.xlsx", func(p string) error { return bombtest.SharedStringsXLSX(p, 200<<20) }, "delte200.xlsx: tekst nr. 1 i tabellen over delte tekster er over grensen på 32 KB"},
		{"rader.xlsx", func(p string) error { return bombtest.RowsXLSX(p, 3_000_000) }, "rader.xlsx: arket xl/worksheets/sheet1.xml har over 1048576 rader"},
		{"kolonner.xlsx", func(p string) error { return bombtest.ColumnsXLSX(p, 1_000_000) }, "kolonner.xlsx row 2: raden har over 1024 celler"},
		{"linje.csv", func(p string) error { return bombtest.CSVLine(p, 20<<20) }, "linje.csv row 2: en rad som begynner her er lengre enn grensen på 2 MB"},
	}
	dir := t.TempDir()
	for _, b := range bombs {
		path := filepath.Join(dir, b.file)
		if err := b.write(path); err != nil {
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
		fw, _ := mw.CreateFormFile("file", b.file)
		_, _ = fw.Write(content)
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, base+"/web/upload", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", b.file, err)
		}
		var page bytes.Buffer
		page.ReadFrom(resp.Body)
		resp.Body.Close()
		hwm := vmHWM(t, p.cmd.Process.Pid)
		t.Logf("%s (%d KB): %d, worker peak RSS so far %d MB", b.file, len(content)>>10, resp.StatusCode, hwm>>20)
		text := htmlUnescape(page.String())
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text, b.want) {
			t.Errorf("%s: %d, want 422 saying %q; page:\n%.3000s", b.file, resp.StatusCode, b.want, text)
		}
		if hwm >= peakRSSBound {
			t.Errorf("%s: the worker's peak RSS is %d MB, bound %d MB", b.file, hwm>>20, peakRSSBound>>20)
		}
		if names := ourTempDirs(t, tmp); len(names) > 0 {
			t.Errorf("%s: left in the worker's temporary folder: %v", b.file, names)
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
