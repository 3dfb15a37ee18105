package web

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/msg"
	"github.com/frontpayment/fpexport/internal/store"
)

// An upload is kept as UploadDir/<sha256>/input/<file name> (the name is
// what the batch and its rejected rows are known by), and its error file
// as UploadDir/<sha256>/errors/<name>.errors.<ext>. Uploads older than
// keepUploads are removed at the next upload; the batch page then makes
// the error file from the stored rejected rows.
const keepUploads = 30 * 24 * time.Hour

// formSlack is room for the form's other fields and multipart framing
// around the file, on top of MaxUpload.
const formSlack = 64 << 10

var shaPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

type uploadData struct {
	MaxUpload string
	Kinds     []fpclient.Kind
	Profiles  []string
	Kind      string
	Profile   string
	Strict    bool
	Problem   string
}

func (h *Handler) uploadData(form uploadForm, problem string) uploadData {
	return uploadData{MaxUpload: formatBytes(h.cfg.MaxUpload), Kinds: fpclient.Kinds, Profiles: h.profiles(),
		Kind: form.kind, Profile: form.profile, Strict: form.strict, Problem: problem}
}

func (h *Handler) uploadPage(w http.ResponseWriter, r *http.Request, req request) {
	h.render(w, r, http.StatusOK, "upload", h.pageFor(req, "upload.title", h.uploadData(uploadForm{}, "")))
}

// uploadForm is what the upload form posted.
type uploadForm struct {
	csrf, kind, profile string
	strict              bool   // warnings are errors
	name                string // the file's base name as the browser gave it
	tmp                 string // where its bytes are, until moved
	sha256              string
	size                int64
}

// upload takes the file (size-limited), keeps it under its SHA-256, runs the
// dry run and shows its result with a Confirm form. Nothing is written to
// the database.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request, req request) {
	// The server's read timeout is short for callbacks; a large file on a
	// slow line needs longer.
	_ = http.NewResponseController(w).SetReadDeadline(h.now().Add(10 * time.Minute))
	r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxUpload+formSlack)
	form, err := h.readUploadForm(r)
	if form.tmp != "" {
		defer os.Remove(form.tmp) // gone once moved; left behind only on failure
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge) || errors.Is(err, errFileTooLarge):
		h.render(w, r, http.StatusRequestEntityTooLarge, "upload", h.pageFor(req, "upload.title",
			h.uploadData(form, fmt.Sprintf(label(req.lang, "upload.too_large"), formatBytes(h.cfg.MaxUpload)))))
		return
	case err != nil:
		h.fail(w, req, http.StatusBadRequest, fmt.Sprintf(label(req.lang, "error.bad_input"), "form"))
		return
	}
	if checkCSRF(form.csrf, h.csrfToken(req.session)) != nil {
		h.fail(w, req, http.StatusForbidden, label(req.lang, "error.csrf"))
		return
	}
	opt, problem := h.importOptions(req.lang, form.kind, form.profile, form.strict)
	if problem == "" && (form.tmp == "" || form.size == 0) {
		problem = label(req.lang, "upload.no_file")
	}
	if ext := strings.ToLower(filepath.Ext(form.name)); problem == "" && ext != ".csv" && ext != ".xlsx" {
		problem = label(req.lang, "upload.bad_type")
	}
	if problem != "" {
		h.render(w, r, http.StatusBadRequest, "upload", h.pageFor(req, "upload.title", h.uploadData(form, problem)))
		return
	}
	h.pruneUploads()
	path, err := h.keepUpload(form)
	if err != nil {
		h.internalError(w, r, req, "keeping upload", err)
		return
	}
	d := dryRunData{SHA256: form.sha256, Name: filepath.Base(path), Kind: form.kind, Profile: form.profile, Strict: form.strict,
		lang: msgLang(req.lang)}
	f, err := intake.Read(path, opt)
	if err != nil {
		// The whole file is unreadable (a required column missing, not a
		// spreadsheet): say why, in the importer's words.
		d.Failed = intake.ErrorText(d.Name, err, msgLang(req.lang))
		h.render(w, r, http.StatusUnprocessableEntity, "dryrun", h.pageFor(req, "dry.title", d))
		return
	}
	d.fill(f)
	if f.RejectedRowCount() > 0 {
		if _, err := h.writeErrorFile(form.sha256, f); err != nil {
			h.internalError(w, r, req, "writing error file", err)
			return
		}
		d.HasErrorFile = true
	}
	if id, found, err := store.BatchBySHA256(r.Context(), h.cfg.Pool, form.sha256); err != nil {
		h.internalError(w, r, req, "looking for the file", err)
		return
	} else if found {
		d.DuplicateOf = id
	}
	h.logger.InfoContext(r.Context(), "web: dry run", "user", req.session.User, "file", d.Name, "sha256", form.sha256,
		"rows", f.Stats.Rows, "orders", f.Stats.Orders, "rejected_rows", f.RejectedRowCount())
	h.render(w, r, http.StatusOK, "dryrun", h.pageFor(req, "dry.title", d))
}

var errFileTooLarge = errors.New("file too large")

// readUploadForm streams the multipart form: the small fields into memory,
// the file into a temporary file in the upload folder, hashed on the way.
// The file is never held in memory whole.
func (h *Handler) readUploadForm(r *http.Request) (uploadForm, error) {
	var form uploadForm
	mr, err := r.MultipartReader()
	if err != nil {
		return form, err
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return form, nil
		}
		if err != nil {
			return form, err
		}
		switch part.FormName() {
		case "csrf", "kind", "profile", "strict":
			v, err := io.ReadAll(io.LimitReader(part, 1024))
			if err != nil {
				return form, err
			}
			switch value := strings.TrimSpace(string(v)); part.FormName() {
			case "csrf":
				form.csrf = value
			case "kind":
				form.kind = value
			case "strict":
				form.strict = value != ""
			default:
				form.profile = value
			}
		case "file":
			if form.tmp != "" || part.FileName() == "" {
				continue // one file; an empty file input sends no name
			}
			form.name = part.FileName()
			if err := h.saveTemp(&form, part); err != nil {
				return form, err
			}
		}
	}
}

func (h *Handler) saveTemp(form *uploadForm, src io.Reader) error {
	tmp, err := os.CreateTemp(h.cfg.UploadDir, ".upload-*")
	if err != nil {
		return err
	}
	form.tmp = tmp.Name()
	hash := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, hash), io.LimitReader(src, h.cfg.MaxUpload+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if n > h.cfg.MaxUpload {
		return errFileTooLarge
	}
	form.size, form.sha256 = n, hex.EncodeToString(hash.Sum(nil))
	return nil
}

// keepUpload moves the file to UploadDir/<sha256>/input/<name>. The same
// bytes uploaded again under another name replace the first name.
func (h *Handler) keepUpload(form uploadForm) (string, error) {
	dir := filepath.Join(h.cfg.UploadDir, form.sha256, "input")
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(dir, safeFileName(form.name))
	return path, os.Rename(form.tmp, path)
}

// safeFileName keeps a browser's file name usable as one path element.
func safeFileName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/")) // old browsers send C:\…\orders.csv
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == '/' || r == 0x7f {
			return '_'
		}
		return r
	}, name)
	if name == "." || name == ".." || strings.HasPrefix(name, ".") {
		name = "upload" + name
	}
	return name
}

// keptInput finds the kept upload of sha256.
func (h *Handler) keptInput(sha string) (string, bool) {
	if !shaPattern.MatchString(sha) {
		return "", false
	}
	matches, _ := filepath.Glob(filepath.Join(h.cfg.UploadDir, sha, "input", "*"))
	if len(matches) != 1 {
		return "", false
	}
	return matches[0], true
}

// keptErrorFile finds the error file written for sha256's upload.
func (h *Handler) keptErrorFile(sha string) (string, bool) {
	if !shaPattern.MatchString(sha) {
		return "", false
	}
	matches, _ := filepath.Glob(filepath.Join(h.cfg.UploadDir, sha, "errors", "*"))
	if len(matches) != 1 {
		return "", false
	}
	return matches[0], true
}

// writeErrorFile writes the file's rejected rows in its own format and
// columns, with an errors column (what `enqueue --errors-out` writes).
func (h *Handler) writeErrorFile(sha string, f *intake.File) (string, error) {
	dir := filepath.Join(h.cfg.UploadDir, sha, "errors")
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	ext := filepath.Ext(f.Name)
	path := filepath.Join(dir, strings.TrimSuffix(f.Name, ext)+".errors"+strings.ToLower(ext))
	return path, f.ErrorFile().Write(path, f.ErrorRows())
}

// pruneUploads removes uploads older than keepUploads.
func (h *Handler) pruneUploads() {
	entries, err := os.ReadDir(h.cfg.UploadDir)
	if err != nil {
		return
	}
	cutoff := h.now().Add(-keepUploads)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			continue
		}
		if e.IsDir() && shaPattern.MatchString(e.Name()) || strings.HasPrefix(e.Name(), ".upload-") {
			_ = os.RemoveAll(filepath.Join(h.cfg.UploadDir, e.Name()))
		}
	}
}

func (h *Handler) uploadErrorFile(w http.ResponseWriter, r *http.Request, req request) {
	path, ok := h.keptErrorFile(r.PathValue("sha"))
	if !ok {
		h.fail(w, req, http.StatusNotFound, label(req.lang, "error.not_found"))
		return
	}
	serveDownload(w, r, path, filepath.Base(path))
}

// confirm imports a kept upload for real, with the kind and profile of its
// dry run: intake.Commit, as `enqueue` does, so the same bytes imported
// before are recognised (by SHA-256) and nothing is imported twice.
func (h *Handler) confirm(w http.ResponseWriter, r *http.Request, req request) {
	sha := r.PostFormValue("sha256")
	kind, profile, strict := r.PostFormValue("kind"), r.PostFormValue("profile"), r.PostFormValue("strict") != ""
	path, ok := h.keptInput(sha)
	if !ok {
		h.fail(w, req, http.StatusNotFound, label(req.lang, "error.not_found"))
		return
	}
	opt, problem := h.importOptions(req.lang, kind, profile, strict)
	if problem != "" {
		h.fail(w, req, http.StatusBadRequest, problem)
		return
	}
	h.confirmMu.Lock()
	defer h.confirmMu.Unlock()
	f, err := intake.Open(path, opt)
	if err != nil {
		h.fail(w, req, http.StatusUnprocessableEntity, label(req.lang, "dry.failed")+": "+intake.ErrorText(filepath.Base(path), err, msgLang(req.lang)))
		return
	}
	res, err := intake.Commit(r.Context(), h.cfg.Pool, h.cfg.River, []*intake.File{f}, intake.CommitOptions{})
	if err != nil {
		h.internalError(w, r, req, "importing "+f.Name, err)
		return
	}
	if len(res.Skipped) > 0 {
		id := res.Skipped[0].BatchID
		h.logger.InfoContext(r.Context(), "web: file imported before", "user", req.session.User, "file", f.Name, "batch", id)
		http.Redirect(w, r, fmt.Sprintf("/web/batches/%d?duplicate=1", id), http.StatusSeeOther)
		return
	}
	b := res.Batches[0]
	if f.RejectedRowCount() > 0 {
		if _, err := h.writeErrorFile(sha, f); err != nil {
			h.logger.ErrorContext(r.Context(), "web: writing error file failed", "error", err) // the import stands
		}
	}
	h.logger.InfoContext(r.Context(), "web: file imported", "user", req.session.User, "file", f.Name, "batch", b.BatchID,
		"new", b.Counts[store.OrderNew], "changed", b.Counts[store.OrderChanged], "jobs", b.JobsQueued,
		"rejected_rows", f.RejectedRowCount())
	http.Redirect(w, r, fmt.Sprintf("/web/batches/%d?imported=1", b.BatchID), http.StatusSeeOther)
}

// importOptions turns the form's kind and profile into intake options; a
// problem is a message for the page.
func (h *Handler) importOptions(lang, kind, profile string, strict bool) (intake.Options, string) {
	settings := intake.Settings{AllowTestIDs: h.cfg.AllowTestIDs, Location: h.cfg.Location, Strict: strict, Lang: msgLang(lang)}
	k, ok := intake.ParseKind(kind)
	if !ok {
		return settings.Options(h.now()), fmt.Sprintf(label(lang, "error.bad_input"), "kind")
	}
	settings.Kind = k
	if profile != "" {
		if !slices.Contains(h.profiles(), profile) {
			return settings.Options(h.now()), fmt.Sprintf(label(lang, "error.bad_input"), "profile")
		}
		p, err := intake.LoadProfile(filepath.Join(h.cfg.ProfileDir, profile))
		if err != nil {
			return settings.Options(h.now()), err.Error()
		}
		settings.Profile = p
	}
	return settings.Options(h.now()), ""
}

// profiles lists the *.json files in ProfileDir, read at each request so a
// new profile shows without a restart. Only these names are accepted.
func (h *Handler) profiles() []string {
	if h.cfg.ProfileDir == "" {
		return nil
	}
	matches, _ := filepath.Glob(filepath.Join(h.cfg.ProfileDir, "*.json"))
	names := make([]string, 0, len(matches))
	for _, m := range matches {
		names = append(names, filepath.Base(m))
	}
	slices.Sort(names)
	return names
}

// dryRunData is the dry run page.
type dryRunData struct {
	SHA256, Name, Kind, Profile string
	Strict                      bool
	Failed                      string // the file could not be read at all
	Rows, Orders, RejectedRows  int
	Totals                      []kindTotal
	Unknown                     []string
	Problems                    []mapping.RowError
	MoreProblems                int
	Warnings                    []mapping.RowError // of the valid orders
	MoreWarnings                int
	lang                        msg.Lang
	DuplicateOf                 int64
	HasErrorFile                bool
}

// kindTotal is what the file holds of one kind.
type kindTotal struct {
	Kind     string
	Orders   int
	TotalOre int64
}

func (d *dryRunData) fill(f *intake.File) {
	d.Rows, d.Orders, d.RejectedRows = f.Stats.Rows, f.Stats.Orders, f.RejectedRowCount()
	d.Unknown = f.Unknown
	for _, kt := range f.Totals() {
		d.Totals = append(d.Totals, kindTotal{Kind: string(kt.Kind), Orders: kt.Orders, TotalOre: int64(kt.Total)})
	}
	d.Problems = f.Stats.Errors
	if len(d.Problems) > maxRejectedShown {
		d.Problems, d.MoreProblems = d.Problems[:maxRejectedShown], len(d.Problems)-maxRejectedShown
	}
	d.Warnings = f.Stats.Warnings
	if len(d.Warnings) > maxRejectedShown {
		d.Warnings, d.MoreWarnings = d.Warnings[:maxRejectedShown], len(d.Warnings)-maxRejectedShown
	}
	// A repaired personal number is not needed to fix a row (the error file
	// holds it): the page shows it masked.
	d.Problems, d.Warnings = masked(d.Problems), masked(d.Warnings)
}

func masked(es []mapping.RowError) []mapping.RowError {
	out := make([]mapping.RowError, len(es))
	for i, e := range es {
		out[i] = e.Masked()
	}
	return out
}

// ColumnName shows a problem's column as the file names it ("Beløp"); a
// column the file does not have (a profile's value) by its own name.
func (d dryRunData) ColumnName(e mapping.RowError) string {
	return cmp.Or(e.Header, e.Column)
}

// Reason is a problem's reason in the page's language, a warning marked.
func (d dryRunData) Reason(e mapping.RowError) string {
	t := e.Text(d.lang)
	if e.Warning {
		t = msg.New("label.warning").Text(d.lang) + ": " + t
	}
	return t
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
