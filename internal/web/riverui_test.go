package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontpayment/fpexport/internal/jobargs"
)

// riverBundle serves the page and River's UI as the worker mounts them,
// with three users: anna (admin), vera (viewer), ole (no role: accountant).
func riverBundle(t *testing.T) (*bundle, *lockedBuffer, int64) {
	t.Helper()
	logs := &lockedBuffer{}
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	entries := "anna:" + string(hash) + ":admin, vera:" + string(hash) + ":viewer, ole:" + string(hash)
	users, problems := ParseUsers(entries)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	b := setup(t, func(c *Config) {
		c.Users, c.Roles = users, ParseRoles(entries)
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	res, err := b.h.cfg.River.Insert(context.Background(), jobargs.SubmitOrderArgs{OrderID: 1, Version: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(Prefix, b.h)
	mux.Handle(RiverPrefix, b.h.RiverUI())
	b.srv.Close()
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	return b, logs, res.Job.ID
}

func (c *client) loginAs(user string) {
	c.t.Helper()
	if resp, body := c.login(user, testPassword); resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("login %s: %d %s", user, resp.StatusCode, body)
	}
}

// cancel asks River UI's API to cancel a job, as its page does (JSON,
// same origin unless origin says otherwise).
func (c *client) cancel(id int64, origin string) (*http.Response, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.base+"/web/river/api/jobs/cancel", strings.NewReader(`{"ids":["`+strconv.FormatInt(id, 10)+`"]}`))
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	} else {
		req.Header.Set("Origin", c.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	return c.do(req)
}

func jobState(t *testing.T, b *bundle, id int64) string {
	t.Helper()
	var state string
	if err := b.pool.QueryRow(context.Background(), `SELECT state::text FROM river_job WHERE id = $1`, id).Scan(&state); err != nil {
		t.Fatal(err)
	}
	return state
}

// River's own UI at /web/river/: an admin lists the jobs and sees the
// submit job; a viewer and an accountant get 403 (logged); without a login
// the API answers 401 and the page leads to the login; a cross-origin POST
// is refused and changes nothing; the admin's cancel works and is logged
// with the user.
func TestRiverUIForAdmins(t *testing.T) {
	t.Parallel()
	b, logs, jobID := riverBundle(t)

	anon := b.client(t)
	if resp, _ := anon.get("/web/river/api/jobs?state=available"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API without a login: %d, want 401", resp.StatusCode)
	}
	if resp, _ := anon.get("/web/river/"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/web/login?next=") {
		t.Errorf("page without a login: %d → %q, want a redirect to the login", resp.StatusCode, resp.Header.Get("Location"))
	}

	admin := b.client(t)
	admin.loginAs("anna")
	resp, body := admin.get("/web/river/api/jobs?state=available")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin, jobs API: %d %s", resp.StatusCode, body)
	}
	var list struct {
		Data []struct {
			ID    json.Number `json:"id"`
			Kind  string      `json:"kind"`
			Queue string      `json:"queue"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("jobs API: %v\n%s", err, body)
	}
	if len(list.Data) != 1 || list.Data[0].Kind != "submit_order" || list.Data[0].ID.String() != strconv.FormatInt(jobID, 10) {
		t.Errorf("jobs API lists %+v, want the submit job %d", list.Data, jobID)
	}
	req, _ := http.NewRequest(http.MethodGet, admin.base+"/web/river/", nil)
	req.Header.Set("Accept", "text/html")
	if resp, page := admin.do(req); resp.StatusCode != http.StatusOK || !strings.Contains(page, "<title>River</title>") {
		t.Errorf("admin, River UI page: %d %.200s", resp.StatusCode, page)
	}

	for _, user := range []string{"vera", "ole"} {
		c := b.client(t)
		c.loginAs(user)
		if resp, _ := c.get("/web/river/api/jobs?state=available"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s, jobs API: %d, want 403", user, resp.StatusCode)
		}
		if resp, _ := c.cancel(jobID, ""); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s, cancel: %d, want 403", user, resp.StatusCode)
		}
		if !strings.Contains(logs.String(), "River UI refused: not an admin\" user="+user) {
			t.Errorf("the refusal of %s is not logged:\n%s", user, logs)
		}
	}

	if resp, body := admin.cancel(jobID, "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin cancel: %d %s, want 403", resp.StatusCode, body)
	}
	if s := jobState(t, b, jobID); s != "available" {
		t.Fatalf("after refused requests the job is %s, want available", s)
	}
	if strings.Contains(logs.String(), "River UI action") {
		t.Errorf("a refused request is logged as an action:\n%s", logs)
	}

	if resp, body := admin.cancel(jobID, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin cancel: %d %s", resp.StatusCode, body)
	}
	if s := jobState(t, b, jobID); s != "cancelled" {
		t.Errorf("after the admin's cancel the job is %s, want cancelled", s)
	}
	if !strings.Contains(logs.String(), `msg="River UI action" user=anna method=POST path=/web/river/api/jobs/cancel status=200`) {
		t.Errorf("the admin's cancel is not logged with the user:\n%s", logs)
	}
}

// WEB_USERS entries take a role; an entry without one is an accountant
// (the entries written before roles keep working), a wrong role is a
// problem naming the user.
func TestParseRoles(t *testing.T) {
	t.Parallel()
	hash, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	h := string(hash)
	entries := "anna:" + h + ":admin,vera:" + h + ":Viewer,ole:" + h + ",kari:" + h + ":accountant"
	users, problems := ParseUsers(entries)
	if len(problems) != 0 || len(users) != 4 {
		t.Fatalf("users %d, problems %q", len(users), problems)
	}
	if string(users["anna"]) != h {
		t.Errorf("the role is kept in anna's hash")
	}
	want := map[string]Role{"anna": RoleAdmin, "vera": RoleViewer, "ole": RoleAccountant, "kari": RoleAccountant}
	got := ParseRoles(entries)
	for name, r := range want {
		if got[name] != r {
			t.Errorf("role of %s = %q, want %q", name, got[name], r)
		}
	}
	_, problems = ParseUsers("per:" + h + ":root")
	if len(problems) != 1 || !strings.Contains(problems[0], "user per: the role must be viewer, accountant or admin") {
		t.Errorf("problems %q", problems)
	}
	if r := ParseRoles("per:" + h + ":root"); len(r) != 0 {
		t.Errorf("a refused entry has a role: %v", r)
	}
}
