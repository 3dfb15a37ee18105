// Package docs holds only this test: it keeps the README and the pages in
// docs/ honest about the repository. A link to a moved page, a setting the
// worker reads but the README's table leaves out, a command or a file the
// text names but the code no longer has: each fails here, in CI, rather than
// in a newcomer's first ten minutes.
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

const root = ".."

// pages are the Markdown files whose links and names are checked.
func pages(t *testing.T) []string {
	t.Helper()
	ps, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join(root, "README.md"), filepath.Join(root, "samples", "README.md")}, ps...)
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var fence = regexp.MustCompile("(?s)```.*?```")

// anchors are the fragment names GitHub gives a page's headings: lower case,
// punctuation dropped (letters, digits, '-' and '_' kept), spaces to '-'.
func anchors(text string) map[string]bool {
	a := map[string]bool{}
	for _, line := range strings.Split(fence.ReplaceAllString(text, ""), "\n") {
		h, ok := strings.CutPrefix(line, "#")
		if !ok {
			continue
		}
		h = strings.TrimSpace(strings.TrimLeft(h, "#"))
		slug := strings.Map(func(r rune) rune {
			switch {
			case r == ' ':
				return '-'
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				return unicode.ToLower(r)
			}
			return -1
		}, h)
		a[slug] = true
	}
	return a
}

var link = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestLinks: every relative link of the README and docs/ names a file that
// exists and, with a #fragment into a Markdown page, a heading of it.
func TestLinks(t *testing.T) {
	for _, page := range pages(t) {
		text := fence.ReplaceAllString(read(t, page), "")
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			u := m[1]
			if regexp.MustCompile(`^[a-z]+:`).MatchString(u) {
				continue
			}
			file, frag, _ := strings.Cut(u, "#")
			target := page
			if file != "" {
				target = filepath.Join(filepath.Dir(page), file)
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s links to %s: %v", page, u, err)
				continue
			}
			if frag != "" && strings.HasSuffix(target, ".md") && !anchors(read(t, target))[frag] {
				t.Errorf("%s links to %s: %s has no heading #%s", page, u, target, frag)
			}
		}
	}
}

// readers are the sources that read the worker's settings, and the calls
// that do it (config.go's get, os.Getenv, the ERP's get).
var (
	readers = []string{"cmd/worker/*.go", "internal/daemon/*.go", "internal/erp/*.go", "internal/web/*.go", "internal/testdb/*.go"}
	envRead = regexp.MustCompile(`\b(?:get|getenv|Getenv|LookupEnv|lookup)\("([A-Z][A-Z0-9_]+)"`)
	// not settings of ours: the user's name (worker review's --by default).
	notSettings = []string{"USER", "HOME", "PATH", "TMPDIR"}
)

// TestConfigurationTable: every environment variable the worker reads is a
// row of the README's configuration table.
func TestConfigurationTable(t *testing.T) {
	readme := read(t, filepath.Join(root, "README.md"))
	var rows []string
	for _, line := range strings.Split(readme, "\n") {
		if strings.HasPrefix(line, "| `") {
			first, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " | ")
			rows = append(rows, first)
		}
	}
	found := 0
	for _, pattern := range readers {
		files, _ := filepath.Glob(filepath.Join(root, pattern))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			for _, m := range envRead.FindAllStringSubmatch(read(t, f), -1) {
				name := m[1]
				if slices.Contains(notSettings, name) {
					continue
				}
				found++
				if !slices.ContainsFunc(rows, func(r string) bool { return strings.Contains(r, "`"+name+"`") }) {
					t.Errorf("%s reads %s, which the README's configuration table does not list", f, name)
				}
			}
		}
	}
	if found < 30 { // the pattern itself must still find the settings
		t.Fatalf("found only %d settings read; has the way config.go reads them changed?", found)
	}
}

var (
	workerCmd = regexp.MustCompile("`worker ([a-z][a-z-]*)")
	caseLabel = regexp.MustCompile(`case "([a-z-]+)"`)
	goRun     = regexp.MustCompile(`go run (\./cmd/[a-z]+)`)
	repoPath  = regexp.MustCompile("`((?:cmd|internal|deploy|migrations|samples)/[A-Za-z0-9_./-]*[A-Za-z0-9_])`")
	// pkg.Name: a package folder and an identifier it declares.
	qualified = regexp.MustCompile(`^(.*)\.([A-Z][A-Za-z0-9_]*)$`)
)

// declares reports whether the Go package in dir declares name (a function,
// method, type, variable or constant), in a file that is not a test.
func declares(t *testing.T, dir, name string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	decl := regexp.MustCompile(`(?m)^(?:func (?:\([^)]*\) )?|type |var |const |\t)` + name + `\b`)
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") && decl.MatchString(read(t, f)) {
			return true
		}
	}
	return false
}

// TestNamedThingsExist: every `worker X` the pages name is a command of
// cmd/worker, every `go run ./cmd/X` a command directory, and every file or
// folder they name in backquotes (cmd/…, internal/…, deploy/…) exists, and
// every `internal/pkg.Name` is declared in that package.
func TestNamedThingsExist(t *testing.T) {
	main := read(t, filepath.Join(root, "cmd", "worker", "main.go"))
	var sources strings.Builder // a `worker …` span may quote a log line
	files, _ := filepath.Glob(filepath.Join(root, "cmd", "worker", "*.go"))
	for _, f := range files {
		sources.WriteString(read(t, f))
	}
	var cmds []string
	for _, m := range caseLabel.FindAllStringSubmatch(main, -1) {
		cmds = append(cmds, m[1])
	}
	for _, page := range pages(t) {
		text := read(t, page)
		for _, m := range workerCmd.FindAllStringSubmatch(text, -1) {
			if !slices.Contains(cmds, m[1]) && !strings.Contains(sources.String(), `"worker `+m[1]) {
				t.Errorf("%s names `worker %s`, which cmd/worker/main.go does not have", page, m[1])
			}
		}
		for _, m := range goRun.FindAllStringSubmatch(text, -1) {
			if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
				t.Errorf("%s: go run %s: %v", page, m[1], err)
			}
		}
		for _, m := range repoPath.FindAllStringSubmatch(text, -1) {
			p := m[1]
			if strings.ContainsAny(p, "*<") {
				continue
			}
			if q := qualified.FindStringSubmatch(p); q != nil {
				if !declares(t, filepath.Join(root, q[1]), q[2]) {
					t.Errorf("%s names %s, which %s does not declare", page, p, q[1])
				}
				continue
			}
			if _, err := os.Stat(filepath.Join(root, p)); err != nil {
				t.Errorf("%s names %s, which is not in the repository", page, p)
			}
		}
	}
}

var testName = regexp.MustCompile("`(Test[A-Z][A-Za-z0-9_]*)`")

// TestNamedTestsExist: every test a page names (fp-contract.md pins each
// reading of FP's documents to one) is a test function of the repository.
func TestNamedTestsExist(t *testing.T) {
	var tests strings.Builder
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, "_test.go") {
			tests.WriteString(read(t, path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range pages(t) {
		for _, m := range testName.FindAllStringSubmatch(read(t, page), -1) {
			if !strings.Contains(tests.String(), "func "+m[1]+"(") {
				t.Errorf("%s names %s, which no test file declares", page, m[1])
			}
		}
	}
}
