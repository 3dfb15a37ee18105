package msg

import (
	"regexp"
	"slices"
	"testing"
)

// Every message has a text in both languages, with the same arguments.
func TestCatalogueComplete(t *testing.T) {
	t.Parallel()
	arg := regexp.MustCompile(`\{[1-9]\}`)
	for _, id := range IDs() {
		nb, en := Texts(id)
		if nb == "" || en == "" {
			t.Errorf("%s: nb %q, en %q: both are needed", id, nb, en)
			continue
		}
		a, b := arg.FindAllString(nb, -1), arg.FindAllString(en, -1)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(slices.Compact(a), slices.Compact(b)) {
			t.Errorf("%s: nb uses %v, en %v", id, a, b)
		}
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	m := New("due.both", Col("due_date"), Col("due_days"))
	if got := m.Text(EN); got != "give due_date or due_days, not both" {
		t.Errorf("EN: %q", got)
	}
	named := m.WithColumns(func(c string) string {
		if c == "due_date" {
			return "Forfallsdato"
		}
		return ""
	})
	if got := named.Text(NB); got != "oppgi Forfallsdato eller due_days, ikke begge" {
		t.Errorf("NB with the file's header: %q", got)
	}
	if got := New("phone.no_length", 7).Text(NB); got != "7 sifre; et norsk nummer har 8" {
		t.Errorf("NB: %q", got)
	}
	if got := Of(Err("date.empty")); got.ID != "date.empty" {
		t.Errorf("Of: %+v", got)
	}
	if got := New("no.such.id", "x").Text(NB); got != "x" {
		t.Errorf("unknown id: %q", got)
	}
}

func TestFromEnv(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		flag, env string
		want      Lang
		err       bool
	}{
		{"", "", NB, false}, {"", "en_US.UTF-8", EN, false}, {"", "nb_NO.UTF-8", NB, false}, {"", "C", NB, false},
		{"en", "nb_NO", EN, false}, {"nb", "en_GB", NB, false}, {"fr", "", NB, true},
	} {
		got, err := FromEnv(tt.flag, tt.env)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("FromEnv(%q, %q) = %v, %v; want %v (error %v)", tt.flag, tt.env, got, err, tt.want, tt.err)
		}
	}
}
