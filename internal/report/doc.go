// Package report renders the reconciliation report that finance signs off:
// every order of a period with its source file and row, amount, FP order id
// and status, the exceptions that need a human, and the batches they came in.
//
// The package is pure: a [Report] holds rows already loaded by the caller
// (the store), and [WriteXLSX], [WriteCSV] and [WriteJSON] turn it into bytes.
// Nothing here opens a database, reads the clock or talks to FP, so the
// renderings are deterministic and tested without any of those.
//
// Money is int64 øre throughout. It becomes a decimal only at the edge: an
// exact "4500.00" string for CSV and JSON ([NOK]), and a float64 number of
// kroner for XLSX cells, converted in one place (see moneyCell).
//
// Times are shown in Europe/Oslo, the time zone the report's period is
// defined in. The zone comes from the system's tz database; a binary that
// runs where none is installed (scratch or distroless images) must import
// time/tzdata in its main package.
package report
