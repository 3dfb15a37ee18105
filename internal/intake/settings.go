package intake

import (
	"time"

	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/msg"
)

// Settings are what an import is told by whoever starts it: enqueue's
// flags, the worker's IMPORT_* variables (its scheduled inbox and ERP
// imports), the web page's upload form, the demo. Each of them fills one
// Settings where it reads its input, and every import turns it into
// Options the same way, so the four cannot drift apart.
type Settings struct {
	// Kind is the kind of a row that names none ("" = such a row is an error).
	Kind fpclient.Kind
	// Profile maps the sender's own headers (nil = built-in names only).
	Profile *mapping.Profile
	// Sheet is the XLSX sheet to read ("" = the first).
	Sheet string
	// AllowTestIDs accepts Skatteetaten's synthetic test personal numbers.
	AllowTestIDs bool
	// Location is the calendar of the import's dates (nil = Europe/Oslo).
	Location *time.Location
	// Strict turns warnings (a value the order's kind does not use, a
	// repaired value) into errors.
	Strict bool
	// Lang is the language of the reasons in the error file ("" = bokmål).
	Lang msg.Lang
}

// ParseKind reads a kind setting: "" is no default kind; ok is false for a
// word that is not a kind.
func ParseKind(v string) (k fpclient.Kind, ok bool) {
	if v == "" {
		return "", true
	}
	return fpclient.ParseKind(v)
}

// Options are the settings as an import reads them, with "today" fixed at
// now: an import's validation settings are fixed when it runs.
func (s Settings) Options(now time.Time) Options {
	return Options{Sheet: s.Sheet, Lang: s.Lang, Mapping: mapping.Options{DefaultKind: s.Kind, Now: now, Location: s.Location,
		Profile: s.Profile, AllowSyntheticPersonalNumbers: s.AllowTestIDs, Strict: s.Strict}}
}
