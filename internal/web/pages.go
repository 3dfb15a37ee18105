package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/frontpayment/fpexport/internal/httpapi"
	"github.com/frontpayment/fpexport/internal/importers"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/msg"
	"github.com/frontpayment/fpexport/internal/report"
	"github.com/frontpayment/fpexport/internal/store"
)

// Limits of what one page shows; the files have everything.
const (
	maxBatchesShown  = 100
	maxOrdersShown   = 1000
	maxRejectedShown = 500
)

type loginData struct {
	Next    string
	Failed  bool
	Message string // instead of the failure's: why the login must wait
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	lang := h.language(w, r)
	if _, ok := h.currentSession(r); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	p := page{Lang: lang, Title: label(lang, "login.title"), CSRF: h.loginToken(w, r),
		Data: loginData{Next: safeNext(r.URL.Query().Get("next"))}}
	h.render(w, r, http.StatusOK, "login", p)
}

// login checks the form's token (tied to the login cookie), then the
// locks of failed logins (throttle.go), then the password. A failure says
// only that name or password is wrong, and is logged with the name (never
// the password) for the operator.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	lang := h.language(w, r)
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		h.fail(w, request{lang: lang}, http.StatusBadRequest, label(lang, "error.csrf"))
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || checkCSRF(r.PostFormValue("csrf"), h.sign("login|"+c.Value)) != nil {
		h.fail(w, request{lang: lang}, http.StatusForbidden, label(lang, "error.csrf"))
		return
	}
	ctx := r.Context()
	name := strings.TrimSpace(r.PostFormValue("user"))
	next := safeNext(r.PostFormValue("next"))
	addr := h.clientAddr(r)
	// A locked login is refused before bcrypt: guessing costs no CPU.
	if wait, err := h.loginLocked(ctx, name, addr); err != nil {
		h.internalError(w, r, request{lang: lang}, "checking login locks", err)
		return
	} else if wait > 0 {
		h.tooMany(w, r, lang, next, wait, "login.locked")
		return
	}
	if !h.acquireBcrypt(ctx) {
		h.logger.WarnContext(ctx, "web: login refused: password checks busy", "user", name, "remote", addr.String())
		h.tooMany(w, r, lang, next, h.bcryptWait, "login.busy")
		return
	}
	defer h.releaseBcrypt()
	// Again, now that the guesses queued ahead of this one are counted.
	if wait, err := h.loginLocked(ctx, name, addr); err != nil {
		h.internalError(w, r, request{lang: lang}, "checking login locks", err)
		return
	} else if wait > 0 {
		h.tooMany(w, r, lang, next, wait, "login.locked")
		return
	}
	if !h.checkPassword(name, r.PostFormValue("password")) {
		if err := h.loginFailed(ctx, name, addr); err != nil {
			h.internalError(w, r, request{lang: lang}, "counting a failed login", err)
			return
		}
		p := page{Lang: lang, Title: label(lang, "login.title"), CSRF: h.loginToken(w, r), Data: loginData{Next: next, Failed: true}}
		h.render(w, r, http.StatusUnauthorized, "login", p)
		return
	}
	if err := h.loginSucceeded(ctx, name); err != nil {
		h.internalError(w, r, request{lang: lang}, "clearing failed logins", err)
		return
	}
	if err := h.newSession(w, r, name); err != nil {
		h.internalError(w, r, request{lang: lang}, "recording a session", err)
		return
	}
	h.clearCookie(w, r, loginCookie)
	// Rows of sessions long expired say nothing any more; logins are few,
	// so each one sweeps.
	if _, err := store.DeleteWebSessionsBefore(ctx, h.cfg.Pool, h.now().Add(-keepExpiredSessions)); err != nil {
		h.logger.WarnContext(ctx, "web: removing expired sessions failed", "error", err)
	}
	h.logger.InfoContext(ctx, "web: logged in", "user", name, "remote", addr.String())
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session on the server, so a copy of the cookie is
// worthless too, then removes the cookie.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, req request) {
	h.clearCookie(w, r, sessionCookie)
	if err := store.RevokeWebSession(r.Context(), h.cfg.Pool, req.session.idHash, h.now(), "logout"); err != nil {
		h.internalError(w, r, req, "ending a session", err)
		return
	}
	h.logger.InfoContext(r.Context(), "web: logged out", "user", req.session.User)
	http.Redirect(w, r, "/web/login", http.StatusSeeOther)
}

// safeNext keeps a redirect after login on this page (no open redirect).
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	return next
}

type batchesData struct {
	Batches  []store.BatchSummary
	Statuses []string // the statuses that occur, in lifecycle order, for the columns
}

// statusOrder is the lifecycle order the counts are shown in.
var statusOrder = []string{"queued", "submitting", "submitted", "sent", "reserved", "paid", "partially_refunded", "refunded",
	"payment_failed", "cancel_requested", "cancelled", "expired", "needs_review", "provider_rejected", "invalid_payload", "failed", "withdrawn"}

func (h *Handler) batchesPage(w http.ResponseWriter, r *http.Request, req request) {
	batches, err := store.RecentBatches(r.Context(), h.cfg.Pool, maxBatchesShown)
	if err != nil {
		h.internalError(w, r, req, "listing batches", err)
		return
	}
	p := h.pageFor(req, "batches.title", batchesData{Batches: batches, Statuses: statusesIn(batches...)})
	p.Refresh = refreshSeconds
	h.render(w, r, http.StatusOK, "batches", p)
}

// statusesIn lists the statuses the batches' orders are in, known ones in
// lifecycle order, then any other.
func statusesIn(batches ...store.BatchSummary) []string {
	seen := map[string]bool{}
	for _, b := range batches {
		for s := range b.ByStatus {
			seen[s] = true
		}
	}
	var out []string
	for _, s := range statusOrder {
		if seen[s] {
			out = append(out, s)
			delete(seen, s)
		}
	}
	for s := range seen {
		out = append(out, s)
	}
	return out
}

type batchData struct {
	Batch      store.BatchSummary
	Statuses   []string
	Orders     []store.BatchOrder
	MoreOrders bool
	Rejected   []store.RejectedRow
	lang       msg.Lang
	ImportDay  string // YYYY-MM-DD in Location, for the report link
	Duplicate  bool   // came here from a confirm of a file imported before
	Imported   bool   // came here from a confirm that imported it
}

func (h *Handler) batchPage(w http.ResponseWriter, r *http.Request, req request) {
	b, ok := h.batchOfPath(w, r, req)
	if !ok {
		return
	}
	ctx, id := r.Context(), b.ID
	orders, err := store.BatchOrders(ctx, h.cfg.Pool, id, maxOrdersShown+1)
	if err != nil {
		h.internalError(w, r, req, "reading batch orders", err)
		return
	}
	rejected, err := store.BatchRejectedRows(ctx, h.cfg.Pool, id)
	if err != nil {
		h.internalError(w, r, req, "reading rejected rows", err)
		return
	}
	d := batchData{Batch: b, Statuses: statusesIn(b), Orders: orders, Rejected: rejected, lang: msgLang(req.lang),
		ImportDay: b.ImportedAt.In(h.cfg.Location).Format(time.DateOnly),
		Duplicate: r.URL.Query().Get("duplicate") == "1", Imported: r.URL.Query().Get("imported") == "1"}
	if len(orders) > maxOrdersShown {
		d.Orders, d.MoreOrders = orders[:maxOrdersShown], true
	}
	p := h.pageFor(req, "", d)
	p.Title = fmt.Sprintf(label(req.lang, "batch.title"), b.ID)
	// Reload while orders are on their way to FP; once all have left, FP's
	// callbacks come slowly, and a slower reload does.
	p.Refresh = 30
	p.RefreshURL = fmt.Sprintf("/web/batches/%d", b.ID) // without the one-time notice of a confirm
	if b.ByStatus["queued"]+b.ByStatus["submitting"] > 0 {
		p.Refresh = refreshSeconds
	}
	h.render(w, r, http.StatusOK, "batch", p)
}

// Reason is a stored rejected row's reason in the page's language.
func (d batchData) Reason(r store.RejectedRow) string { return storedReason(r, d.lang) }

// storedReason renders a stored reason in lang; a row stored before the
// message catalogue has its English text only.
func storedReason(r store.RejectedRow, lang msg.Lang) string {
	if r.MsgID == "" {
		return r.Reason
	}
	t := msg.Msg{ID: r.MsgID, Args: r.MsgArgs}.Text(lang)
	if r.Note != "" {
		t += " " + msg.New(r.Note).Text(lang)
	}
	return t
}

// batchOfPath reads the batch the path's {id} names; false when the page
// has already answered (not found, or an error).
func (h *Handler) batchOfPath(w http.ResponseWriter, r *http.Request, req request) (store.BatchSummary, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.fail(w, req, http.StatusNotFound, label(req.lang, "error.not_found"))
		return store.BatchSummary{}, false
	}
	b, err := store.BatchByID(r.Context(), h.cfg.Pool, id)
	if errors.Is(err, store.ErrNotFound) {
		h.fail(w, req, http.StatusNotFound, label(req.lang, "error.not_found"))
		return b, false
	}
	if err != nil {
		h.internalError(w, r, req, "reading batch", err)
		return b, false
	}
	return b, true
}

// batchErrorFile sends the batch's rejected rows for the accountant to
// fix: the error file written when the file was imported here (the input's
// own format and columns, with an errors column), or, for a batch imported
// otherwise (enqueue, inbox, ERP), one made from the stored rejected rows.
func (h *Handler) batchErrorFile(w http.ResponseWriter, r *http.Request, req request) {
	b, ok := h.batchOfPath(w, r, req)
	if !ok {
		return
	}
	ctx, id := r.Context(), b.ID
	if path, ok := h.keptErrorFile(b.SHA256); ok {
		serveDownload(w, r, path, filepath.Base(path))
		return
	}
	rows, err := store.BatchRejectedRows(ctx, h.cfg.Pool, id)
	if err != nil {
		h.internalError(w, r, req, "reading rejected rows", err)
		return
	}
	header, comma, format, err := store.BatchLayout(ctx, h.cfg.Pool, id)
	if err != nil {
		h.internalError(w, r, req, "reading batch layout", err)
		return
	}
	path, err := writeStoredErrorFile(rows, header, comma, format, msgLang(req.lang))
	if err != nil {
		h.internalError(w, r, req, "writing error file", err)
		return
	}
	defer os.RemoveAll(filepath.Dir(path))
	ext := filepath.Ext(path)
	serveDownload(w, r, path, fmt.Sprintf("%s.errors%s", strings.TrimSuffix(b.Source, filepath.Ext(b.Source)), ext))
}

// writeStoredErrorFile writes a batch's open rejected rows through the
// importers' error file writer, as the import would have written them: in
// the input's format and delimiter, with its header and the rows' cells,
// the reasons in lang naming the file's headers. Rows stored before their
// cells were kept (or refused changes, whose cells are not read) get the
// columns file, column and value instead. The caller removes the folder.
func writeStoredErrorFile(rows []store.RejectedRow, header []string, comma rune, format string, lang msg.Lang) (string, error) {
	dir, err := os.MkdirTemp("", "fpexport-errors-")
	if err != nil {
		return "", err
	}
	whole := len(header) > 0
	for _, r := range rows {
		whole = whole && (r.Cells != nil || r.ResolvedBy != 0)
	}
	ef := importers.ErrorFile{Header: []string{"file", "column", "value"}, Comma: ';'}
	ext := ".csv"
	if whole {
		ef = importers.ErrorFile{Header: header, Comma: comma}
		if hm, _, err := mapping.MapHeader(header); err == nil {
			ef.Text = hm.Positions(mapping.IdentifierColumns)
		}
		if format == "xlsx" {
			ext = ".xlsx"
		}
	}
	byRow := map[int]int{} // row → its index in out
	var out []importers.ErrorRow
	for _, r := range rows {
		if r.ResolvedBy != 0 {
			continue // fixed by a later import
		}
		reason := storedReason(r, lang)
		if col := cmp.Or(r.Header, r.Column); col != "" {
			reason = col + ": " + reason
		}
		if i, ok := byRow[r.Row]; ok && whole {
			out[i].Errors += "; " + reason
			continue
		}
		cells := []string{r.Source, r.Column, r.Value}
		if whole {
			cells = r.Cells
		}
		byRow[r.Row] = len(out)
		e := importers.ErrorRow{Number: r.Row, Cells: cells, Errors: reason}
		if whole {
			e.Marked = markedCells(rows, r.Row, header)
		}
		out = append(out, e)
	}
	path := filepath.Join(dir, "errors"+ext)
	if err := ef.Write(path, out); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return path, nil
}

// markedCells are the positions of the cells a row's stored problems name.
func markedCells(rows []store.RejectedRow, row int, header []string) []int {
	var out []int
	for _, r := range rows {
		if r.Row != row || r.Header == "" {
			continue
		}
		if i := slices.IndexFunc(header, func(h string) bool { return strings.TrimSpace(h) == r.Header }); i >= 0 {
			out = append(out, i)
		}
	}
	return out
}

// serveDownload sends a file as an attachment.
func serveDownload(w http.ResponseWriter, r *http.Request, path, name string) {
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, "file missing", http.StatusNotFound)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		http.Error(w, "file missing", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", contentType(name))
	w.Header().Set("Content-Disposition", attachment(name))
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

func contentType(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case ".csv":
		return "text/csv; charset=utf-8"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}

// attachment is a Content-Disposition header for a file name that may hold
// æøå: a plain ASCII fallback and the UTF-8 name (RFC 6266).
func attachment(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii, pathEscape(name))
}

func pathEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

type reportsData struct {
	From, To string
	Formats  []string
	Parts    []reportPart
}

// reportPart is a choice of the report page's part list: "" is the orders
// in a CSV and everything in XLSX or JSON.
type reportPart struct{ Value, Name string }

func (h *Handler) reportsPage(w http.ResponseWriter, r *http.Request, req request) {
	y := h.now().In(h.cfg.Location).AddDate(0, 0, -1).Format(time.DateOnly)
	today := h.now().In(h.cfg.Location).Format(time.DateOnly)
	parts := []reportPart{{"", label(req.lang, "reports.part.all")}}
	for _, p := range report.Parts[1:] {
		parts = append(parts, reportPart{p, report.PartName(req.lang, p)})
	}
	h.render(w, r, http.StatusOK, "reports", h.pageFor(req, "reports.title", reportsData{From: y, To: today, Formats: report.Formats, Parts: parts}))
}

// reportDownload writes the reconciliation report exactly as `worker
// report` and GET /reports/reconciliation do: store.WithReport (orders
// streamed from one snapshot) and the report package's writers.
func (h *Handler) reportDownload(w http.ResponseWriter, r *http.Request, req request) {
	q := r.URL.Query()
	from, to, err := httpapi.Period(q.Get("from"), q.Get("to"), h.now(), h.cfg.Location)
	if err != nil {
		h.fail(w, req, http.StatusBadRequest, fmt.Sprintf(label(req.lang, "error.bad_input"), err.Error()))
		return
	}
	format := q.Get("format")
	if format == "" {
		format = "xlsx"
	}
	if !isFormat(format) {
		h.fail(w, req, http.StatusBadRequest, fmt.Sprintf(label(req.lang, "error.bad_input"), "format"))
		return
	}
	name := "reconciliation-" + from + "." + format
	if to != from {
		name = "reconciliation-" + from + "_" + to + "." + format
	}
	// A part is one CSV file; an XLSX or JSON holds every part already.
	part := q.Get("part")
	if format != "csv" {
		part = ""
	}
	if part != "" && !slices.Contains(report.Parts, part) {
		h.fail(w, req, http.StatusBadRequest, fmt.Sprintf(label(req.lang, "error.bad_input"), "part"))
		return
	}
	name = report.PartPath(name, part)
	out := &report.CountingWriter{W: w}
	err = store.WithReport(r.Context(), h.cfg.Pool, from, to, h.now(), h.cfg.StaleAfter, func(rep *report.Report) error {
		rep.Lang = req.lang // the page's language
		w.Header().Set("Content-Type", contentType(name))
		w.Header().Set("Content-Disposition", attachment(name))
		return report.WritePart(out, rep, format, part, report.DefaultCSVComma)
	})
	if err != nil {
		h.logger.ErrorContext(r.Context(), "web: report failed", "error", err, "from", from, "to", to, "format", format)
		if out.N == 0 { // nothing sent yet: the page can still say so
			w.Header().Del("Content-Disposition")
			h.fail(w, req, http.StatusInternalServerError, label(req.lang, "error.internal"))
		}
	}
}

func isFormat(f string) bool {
	for _, known := range report.Formats {
		if f == known {
			return true
		}
	}
	return false
}
