// Package migrations holds fpexport's own SQL schema, embedded so the built
// binaries migrate a database from any directory. River's tables are created
// by River's own migrator (rivermigrate) before these run; see store.Migrate.
package migrations

import "embed"

// FS holds the migration files, named NNNN_name.sql and applied in order.
// Migrations only go forward: never edit one that has shipped, add a new one.
//
//go:embed *.sql
var FS embed.FS
