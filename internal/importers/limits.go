package importers

import "fmt"

// Limits bound what one file can make a reader hold or unpack, so that a
// small hostile file (a "zip bomb": one cell or the shared strings of an
// XLSX inflating to gigabytes, or a CSV line that never ends) is refused
// early, with the limit named, instead of taking the process (which also
// sends orders and takes callbacks) past its memory. They are checked while
// the file is read, never trusting what the file declares about itself.
// A zero field takes its default (DefaultLimits).
type Limits struct {
	// SheetBytes bounds one worksheet's XML, unpacked. excelize unpacks a
	// large sheet to a temporary file and streams it, so this bounds disk,
	// not memory: DefaultMaxRows rows of ~30 cells are ~1.2 GB.
	SheetBytes int64
	// PartBytes bounds every other part of a workbook, unpacked (styles,
	// workbook, pictures…): excelize holds those in memory.
	PartBytes int64
	// InMemoryBytes bounds what excelize holds in memory together: the
	// parts other than sheets and shared strings, and the sheets and shared
	// strings small enough to stay in memory (below its 16 MB spill limit).
	InMemoryBytes int64
	// CellBytes bounds one cell: an XLSX cell's or shared string's XML (and
	// any one XML tag or text), a CSV field. An order's cells are short;
	// Excel itself stops at 32 767 characters.
	CellBytes int
	// SharedStrings bounds the entries of the shared-strings table;
	// excelize keeps an index of ~40 bytes per entry in memory.
	SharedStrings int
	// SharedStringsBytes bounds the shared-strings table's XML, unpacked.
	SharedStringsBytes int64
	// Rows bounds a sheet's rows (XLSX <row> elements, and row numbers),
	// header and blank rows included: Excel's own maximum. The data rows are
	// also bounded by Options.MaxRows.
	Rows int
	// Columns bounds the cells of one row (XLSX; empty self-closing cells,
	// which formatting leaves, are not counted) or the fields of one record
	// (CSV). A row is held whole, and a shared-string cell is a few bytes
	// of XML that stand for up to CellBytes: Columns × CellBytes is what
	// one row can cost.
	Columns int
	// RowBytes bounds one row: an XLSX <row>'s XML, a CSV record's text as
	// decoded (a quoted cell that is never closed would otherwise pull the
	// rest of the file into one record).
	RowBytes int
}

// DefaultLimits hold a reading process well under 300 MB of memory on any
// file, while a 1 000 000-row order file (Excel's own limits) still reads.
var DefaultLimits = Limits{
	SheetBytes:         2 << 30,
	PartBytes:          32 << 20,
	InMemoryBytes:      128 << 20,
	CellBytes:          32 << 10,
	SharedStrings:      2_000_000,
	SharedStringsBytes: 256 << 20,
	Rows:               1 << 20, // 1 048 576
	Columns:            1024,
	RowBytes:           2 << 20,
}

// orDefaults fills the zero fields from DefaultLimits.
func (l Limits) orDefaults() Limits {
	d := DefaultLimits
	pick := func(v, def int64) int64 {
		if v > 0 {
			return v
		}
		return def
	}
	pickInt := func(v, def int) int {
		if v > 0 {
			return v
		}
		return def
	}
	return Limits{
		SheetBytes:         pick(l.SheetBytes, d.SheetBytes),
		PartBytes:          pick(l.PartBytes, d.PartBytes),
		InMemoryBytes:      pick(l.InMemoryBytes, d.InMemoryBytes),
		CellBytes:          pickInt(l.CellBytes, d.CellBytes),
		SharedStrings:      pickInt(l.SharedStrings, d.SharedStrings),
		SharedStringsBytes: pick(l.SharedStringsBytes, d.SharedStringsBytes),
		Rows:               pickInt(l.Rows, d.Rows),
		Columns:            pickInt(l.Columns, d.Columns),
		RowBytes:           pickInt(l.RowBytes, d.RowBytes),
	}
}

// LimitError is a file refused because it goes past one of its Limits. It
// is a *FileError too (errors.As finds both), so every caller that tells a
// bad file from a failed run already knows it.
type LimitError struct {
	FileError
	Limit string // the Limits field: "CellBytes", "Rows", …
}

func (e *LimitError) Unwrap() error { return &e.FileError }

// limitError builds the refusal; its message names the limit and what to do.
func limitError(file string, row int, column, limit, id string, args ...any) *LimitError {
	return &LimitError{FileError: *fileError(file, row, column, nil, id, args...), Limit: limit}
}

// size spells a byte count for the accountant: "64 KB", "256 MB", "2 GB".
func size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	default:
		return fmt.Sprintf("%d byte", n)
	}
}
