package main

import (
	"strings"
	"testing"
)

// A file that cannot be read at all is refused in the reader's language,
// naming the file and the row: bokmål by default, English with --lang en.
func TestFileErrorsInTheReadersLanguage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	fake := e.file(t, "fake.xlsx", "Ordrenummer;Kundenavn\n1;Kari\n")
	quote := e.file(t, "sitat.csv", header+strings.Split(validRows, "\n")[0]+"\n"+strings.Replace(badRow, "Feil Epost", `Feil "E" Epost`, 1))
	for _, tt := range []struct {
		lang, path, want string
	}{
		{"", fake, "fake.xlsx: dette er tekst, ikke en XLSX-arbeidsbok: ble en CSV-fil omdøpt til .xlsx?"},
		{"en", fake, "fake.xlsx: this is text, not an XLSX workbook: was a CSV file renamed to .xlsx?"},
		{"", quote, `sitat.csv rad 3: en " i en celle som ikke begynner med " (linje 3, tegn `},
		{"en", quote, `sitat.csv row 3: a " in a cell that does not start with " (line 3, character `},
	} {
		args := []string{"--dry-run", tt.path}
		if tt.lang != "" {
			args = append([]string{"--lang", tt.lang}, args...)
		}
		code, out := e.runEnv(t, map[string]string{"LANG": "C.UTF-8"}, args...)
		if code != exitFatal || !strings.Contains(out, tt.want) {
			t.Errorf("--lang %q %s: exit %d, want %d and %q:\n%s", tt.lang, tt.path, code, exitFatal, tt.want, out)
		}
	}
}
