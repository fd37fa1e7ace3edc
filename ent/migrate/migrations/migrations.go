// Package migrations embeds wagate's versioned SQL migrations, one directory
// per dialect. The files are generated from the ent schema by
// `go run ./ent/migrate/gen -name <change>` and applied in name order by the
// store adapter's migrator; a file, once released, is never edited.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// FS returns the migrations of a dialect: "sqlite3" (ent's name) or "sqlite",
// and "postgres". The files sit at the root of the returned FS.
func FS(dialect string) (fs.FS, error) {
	var dir string
	switch dialect {
	case "sqlite3", "sqlite":
		dir = "sqlite"
	case "postgres":
		dir = "postgres"
	default:
		return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
	}
	return fs.Sub(files, dir)
}
