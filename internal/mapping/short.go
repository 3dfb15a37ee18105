package mapping

// ShortValueRunes is how much of a rejected value a message shows.
const ShortValueRunes = 80

// ShortValue cuts v to ShortValueRunes characters, marking the cut with
// "…": a rejected value is quoted so the accountant can find the cell, and
// a cell of a hostile file may be tens of kilobytes (the row and column
// are in the message, and the error file keeps the cell whole).
func ShortValue(v string) string {
	if len(v) <= ShortValueRunes {
		return v
	}
	n := 0
	for i := range v {
		if n == ShortValueRunes {
			return v[:i] + "…"
		}
		n++
	}
	return v
}
