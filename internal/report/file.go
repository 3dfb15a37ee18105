package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Formats are the renderings a report can be written in.
var Formats = []string{"xlsx", "csv", "json"}

// DefaultCSVComma is the CSV field separator of Norwegian Excel.
const DefaultCSVComma = ';'

// Write renders r in format (xlsx, csv with ';', or json).
func Write(w io.Writer, r *Report, format string) error {
	return WriteAs(w, r, format, DefaultCSVComma)
}

// WriteAs renders r in format; a CSV separates its fields with csvComma.
func WriteAs(w io.Writer, r *Report, format string, csvComma rune) error {
	return WritePart(w, r, format, "", csvComma)
}

// WritePart renders r in format; a CSV holds part (Parts; "": the orders)
// and separates its fields with csvComma. Only a CSV has parts: an XLSX or
// JSON holds all of them.
func WritePart(w io.Writer, r *Report, format, part string, csvComma rune) error {
	if part != "" && format != "csv" {
		return fmt.Errorf("a report part goes with the csv format, not %s", format)
	}
	switch format {
	case "xlsx":
		return WriteXLSX(w, r)
	case "csv":
		if part == "" {
			part = PartOrders
		}
		return WriteCSVPart(w, r, part, csvComma)
	case "json":
		return WriteJSON(w, r)
	}
	return fmt.Errorf("unknown report format %q", format)
}

// FileMode is the mode of report files: readable by the service's group,
// so that finance users in it can open them.
const FileMode = 0o640

// PartPath is where part of a CSV report whose orders go to path is
// written: beside it, "reconciliation-2026-01-05.csv" →
// "reconciliation-2026-01-05-summary.csv". The orders keep path.
func PartPath(path, part string) string {
	if part == PartOrders || part == "" {
		return path
	}
	ext := filepath.Ext(path)
	return path[:len(path)-len(ext)] + "-" + part + ext
}

// WriteFiles writes r to path like WriteFileAs; a CSV report is written as
// one file per part (Parts), the orders to path and the others beside it
// (PartPath), all from the same Report, so from one snapshot. It returns
// the orders' file's info.
func WriteFiles(path string, r *Report, format string, csvComma rune) (FileInfo, error) {
	if format != "csv" {
		return WriteFileAs(path, r, format, csvComma)
	}
	var main FileInfo
	for _, part := range Parts {
		info, err := WritePartFile(PartPath(path, part), r, format, part, csvComma)
		if err != nil {
			return FileInfo{}, err
		}
		if part == PartOrders {
			main = info
		}
	}
	return main, nil
}

// FileInfo describes a written report file.
type FileInfo struct {
	Bytes  int64
	SHA256 string // hex
}

// WriteFile writes r to path through a temporary file in the same folder
// and a rename, so a reader never sees half a report and a second write
// replaces the first whole. The folder is created if missing. The file's
// mode is FileMode (0640): the service's group may read it. A CSV holds
// the orders only: WriteFiles writes every part.
func WriteFile(path string, r *Report, format string) (FileInfo, error) {
	return WriteFileAs(path, r, format, DefaultCSVComma)
}

// WriteFileAs is WriteFile with the CSV field separator csvComma.
func WriteFileAs(path string, r *Report, format string, csvComma rune) (FileInfo, error) {
	return WritePartFile(path, r, format, "", csvComma)
}

// WritePartFile is WriteFileAs for one part of a CSV report ("": the
// orders). The file gets FileMode (less what the umask takes away).
func WritePartFile(path string, r *Report, format, part string, csvComma rune) (FileInfo, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return FileInfo{}, err
	}
	tmp, err := os.CreateTemp(dir, ".report-*")
	if err != nil {
		return FileInfo{}, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	cw := &CountingWriter{W: io.MultiWriter(tmp, h)}
	if err := WritePart(cw, r, format, part, csvComma); err != nil {
		tmp.Close()
		return FileInfo{}, err
	}
	// CreateTemp makes the file 0600; a report is for finance to read.
	if err := tmp.Chmod(FileMode); err != nil {
		tmp.Close()
		return FileInfo{}, err
	}
	if err := tmp.Close(); err != nil {
		return FileInfo{}, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return FileInfo{}, err
	}
	return FileInfo{Bytes: cw.N, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// CountingWriter counts the bytes written through it: the size of a
// report file, or whether a report that failed had already been sent in
// part (then its HTTP status can no longer say so).
type CountingWriter struct {
	W io.Writer
	N int64
}

func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += int64(n)
	return n, err
}
