package web

import (
	"net/http"
	"strings"
	"testing"
)

// A file that cannot be read is refused in the page's language.
func TestUnreadableFileInThePagesLanguage(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	c := b.client(t)
	csrf := c.mustLogin()
	fake := []byte("Ordrenummer;Kundenavn\n1;Kari\n")
	for _, tt := range []struct{ lang, want string }{
		{"nb", "fake.xlsx: dette er tekst, ikke en XLSX-arbeidsbok"},
		{"en", "fake.xlsx: this is text, not an XLSX workbook"},
	} {
		c.get("/web/?lang=" + tt.lang)
		resp, body := c.upload(csrf, "", "", "fake.xlsx", fake)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d, want 422 saying %q\n%s", tt.lang, resp.StatusCode, tt.want, body)
		}
	}
}
