// Package msg is the one catalogue of the messages an import gives about a
// row: each has an id, its arguments, and a text in Norwegian (bokmål) and
// English. The mapping core records a Msg; whoever shows it (the enqueue
// command, the error file, the web page) renders it in its reader's
// language. Pure: no I/O.
package msg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Lang is a language messages are written in.
type Lang string

const (
	NB Lang = "nb" // Norwegian bokmål, the default
	EN Lang = "en"
)

// ParseLang reads a language as given to --lang or in LANG ("en",
// "en_US.UTF-8", "nb_NO", "no", "nn"). ok is false for a language the
// catalogue does not have.
func ParseLang(s string) (Lang, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, "_.-@"); i >= 0 {
		s = s[:i]
	}
	switch s {
	case "nb", "no", "nn", "norsk", "bokmål", "bokmal":
		return NB, true
	case "en", "english":
		return EN, true
	}
	return NB, false
}

// FromEnv is the language of a command: the flag when given, else LANG when
// it names a language of the catalogue, else bokmål.
func FromEnv(flagValue, langEnv string) (Lang, error) {
	if strings.TrimSpace(flagValue) != "" {
		l, ok := ParseLang(flagValue)
		if !ok {
			return NB, fmt.Errorf("--lang %q: use nb or en", flagValue)
		}
		return l, nil
	}
	l, _ := ParseLang(langEnv)
	return l, nil
}

// Msg is one message: its id in the catalogue and its arguments, already
// formatted. An argument made by Col names a column, and is shown as the
// file's own header when the caller knows it (WithColumns).
type Msg struct {
	ID   string   `json:"id"`
	Args []string `json:"args,omitempty"`
}

// colMark starts an argument that names a canonical column.
const colMark = "\x00col:"

// Col is an argument naming a canonical column ("due_date").
func Col(name string) string { return colMark + name }

// New makes a message; each argument is formatted with fmt's %v.
func New(id string, args ...any) Msg {
	m := Msg{ID: id}
	if len(args) > 0 {
		m.Args = make([]string, len(args))
		for i, a := range args {
			switch v := a.(type) {
			case string:
				m.Args[i] = v
			case int:
				m.Args[i] = strconv.Itoa(v)
			default:
				m.Args[i] = fmt.Sprint(v)
			}
		}
	}
	return m
}

// IsZero reports an empty message.
func (m Msg) IsZero() bool { return m.ID == "" }

// WithColumns returns the message with each column argument replaced by
// name(column) (the file's own header), or the canonical name when name
// returns "".
func (m Msg) WithColumns(name func(col string) string) Msg {
	var out []string
	for i, a := range m.Args {
		col, ok := strings.CutPrefix(a, colMark)
		if !ok {
			continue
		}
		if out == nil {
			out = append([]string(nil), m.Args...)
		}
		if n := name(col); n != "" {
			out[i] = n
		} else {
			out[i] = col
		}
	}
	if out != nil {
		m.Args = out
	}
	return m
}

// Text renders the message in lang. {1}, {2}… in the catalogue's text are
// the arguments. An id the catalogue does not know shows its arguments as
// they are (a message stored by another version).
func (m Msg) Text(lang Lang) string {
	e, ok := catalogue[m.ID]
	if !ok {
		return strings.Join(plain(m.Args), " ")
	}
	t := e.nb
	if lang == EN {
		t = e.en
	}
	if len(m.Args) == 0 {
		return t
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 || i+2 >= len(t) || t[i+2] != '}' || t[i+1] < '1' || t[i+1] > '9' {
			if i < 0 {
				b.WriteString(t)
				return b.String()
			}
			b.WriteString(t[:i+1])
			t = t[i+1:]
			continue
		}
		b.WriteString(t[:i])
		if n := int(t[i+1] - '1'); n < len(m.Args) {
			b.WriteString(strings.TrimPrefix(m.Args[n], colMark))
		}
		t = t[i+3:]
	}
}

func plain(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.TrimPrefix(a, colMark)
	}
	return out
}

// Error is a message as a Go error; its Error() is the English text (logs
// and tests); a reader is shown Text in their language.
type Error struct{ Msg Msg }

func (e *Error) Error() string { return e.Msg.Text(EN) }

// Err makes a message an error.
func Err(id string, args ...any) error { return &Error{Msg: New(id, args...)} }

// Of is the message an error carries; an error from outside the catalogue
// becomes the message "text" holding its English text.
func Of(err error) Msg {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return New(Text, err.Error())
}

// Text is the id of a message outside the catalogue: its one argument is
// shown as it is, in every language.
const Text = "text"

// Known reports an id the catalogue has.
func Known(id string) bool { _, ok := catalogue[id]; return ok }

// IDs lists the catalogue's ids (for tests and docs).
func IDs() []string {
	out := make([]string, 0, len(catalogue))
	for id := range catalogue {
		out = append(out, id)
	}
	return out
}

// Texts returns both texts of an id (for tests).
func Texts(id string) (nb, en string) { e := catalogue[id]; return e.nb, e.en }
