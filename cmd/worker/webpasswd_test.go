package main

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/frontpayment/fpexport/internal/web"
)

func TestWebPasswd(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	if err := cmdWebPasswd([]string{"anna"}, strings.NewReader("riktig hest batteri\n"), &out, &errOut); err != nil {
		t.Fatalf("web-passwd: %v %s", err, errOut.String())
	}
	line := strings.TrimSpace(out.String())
	name, hash, _ := strings.Cut(line, ":")
	if name != "anna" || bcrypt.CompareHashAndPassword([]byte(hash), []byte("riktig hest batteri")) != nil {
		t.Fatalf("web-passwd printed %q, not anna's entry", line)
	}
	if users, problems := web.ParseUsers(line); len(problems) > 0 || users["anna"] == nil {
		t.Errorf("WEB_USERS does not take the printed entry: %q", problems)
	}
	for _, tc := range []struct {
		args  []string
		stdin string
	}{{[]string{"anna"}, "short\n"}, {[]string{"an:na"}, "long enough password\n"}, {nil, "long enough password\n"}} {
		if err := cmdWebPasswd(tc.args, strings.NewReader(tc.stdin), &bytes.Buffer{}, &bytes.Buffer{}); exitCode(err) != 2 {
			t.Errorf("web-passwd %v with %q: exit %d, want 2", tc.args, tc.stdin, exitCode(err))
		}
	}
}
