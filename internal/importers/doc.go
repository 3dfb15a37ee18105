// Package importers reads the spreadsheets accountants drop (CSV and XLSX)
// into raw rows that remember where they came from, and writes the error file
// an accountant can open, fix and re-import.
//
// It knows nothing about orders: a Sheet is a header and rows of trimmed
// strings aligned to it, each with the row number the user sees in Excel or a
// text editor. Interpreting the cells (numbers, dates, kinds) is the mapping
// layer's job. What this package does reject, with a *FileError naming the
// file, row and column, is a file whose shape cannot be trusted: broken
// quotes, a header with duplicate or missing names over data, merged cells,
// more cells than the header has names, an unreadable workbook.
//
// Open streams a file row by row (a Stream), so memory stays flat however
// long the file is; ReadFile, ReadCSV and ReadXLSX are loops over it that
// keep every row. A Stream finds each problem at the row where it shows, so
// of several problems in one file the first in row order is reported.
//
// CSV: the delimiter (comma, semicolon or tab) is sniffed from the header;
// UTF-8 with or without BOM, UTF-16 with BOM, and Windows-1252 are accepted.
// The text is decoded on the fly, after a first scan of the bytes has chosen
// the encoding.
// XLSX: the sheet is streamed with excelize's Rows iterator, so memory does
// not hold the worksheet's XML; cells come as Excel stores them (raw values:
// dates as serial numbers, booleans as 1/0).
package importers
