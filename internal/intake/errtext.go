package intake

import (
	"errors"

	"github.com/frontpayment/fpexport/internal/importers"
	"github.com/frontpayment/fpexport/internal/mapping"
	"github.com/frontpayment/fpexport/internal/msg"
)

// ErrorText is why a file (named name) cannot be imported at all, in lang:
// a header without the columns needed, or a file that cannot be read
// (importers.FileError: what it is not, where it is damaged, which limit it
// goes past). Any other error is given as it is.
func ErrorText(name string, err error, lang msg.Lang) string {
	var he *mapping.HeaderError
	var fe *importers.FileError
	switch {
	case errors.As(err, &he) && name == "":
		return he.Text(lang)
	case errors.As(err, &he):
		return name + ": " + he.Text(lang)
	case errors.As(err, &fe):
		return fe.Text(lang)
	}
	return err.Error()
}
