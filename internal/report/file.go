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
	switch format {
	case "xlsx":
		return WriteXLSX(w, r)
	case "csv":
		return WriteCSV(w, r, csvComma)
	case "json":
		return WriteJSON(w, r)
	}
	return fmt.Errorf("unknown report format %q", format)
}

// FileInfo describes a written report file.
type FileInfo struct {
	Bytes  int64
	SHA256 string // hex
}

// WriteFile writes r to path through a temporary file in the same folder
// and a rename, so a reader never sees half a report and a second write
// replaces the first whole. The folder is created if missing.
func WriteFile(path string, r *Report, format string) (FileInfo, error) {
	return WriteFileAs(path, r, format, DefaultCSVComma)
}

// WriteFileAs is WriteFile with the CSV field separator csvComma.
func WriteFileAs(path string, r *Report, format string, csvComma rune) (FileInfo, error) {
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
	if err := WriteAs(cw, r, format, csvComma); err != nil {
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
