package callbackurl

import (
	"net/url"
	"testing"
)

func TestForAndValid(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(For("https://example.no/fp/", "s3cret", 42))
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != "/fp"+Path {
		t.Errorf("path = %q", u.Path)
	}
	if got := u.Query().Get("ref"); got != "42" {
		t.Errorf("ref = %q, want 42", got)
	}
	tok := u.Query().Get("token")
	if !Valid("s3cret", 42, tok) {
		t.Error("own token not valid")
	}
	if Valid("s3cret", 43, tok) || Valid("other", 42, tok) || Valid("s3cret", 42, "") {
		t.Error("token valid for the wrong order, secret or empty")
	}
}
