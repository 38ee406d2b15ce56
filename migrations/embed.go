package migrations

import "embed"

// FS holds every forward migration (NNNNNN_name.up.sql) at its root, in the
// layout golang-migrate's source/iofs driver reads. It is read-only; apply it
// with sqlstore.Migrate.
//
//go:embed *.sql
var FS embed.FS
