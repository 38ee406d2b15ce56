package testenv_test

import (
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/migrations"
)

func TestProbeTiming(t *testing.T) {
	for i := 0; i < 4; i++ {
		t.Run("m", func(t *testing.T) {
			dsn := testenv.NewEmptyDatabase(t)
			start := time.Now()
			if _, err := sqlstore.Migrate(t.Context(), dsn, nil); err != nil {
				t.Fatal(err)
			}
			t.Logf("migrate %v", time.Since(start))
		})
		t.Run("raw", func(t *testing.T) {
			dsn := testenv.NewEmptyDatabase(t)
			db, _ := sqlstore.Open(t.Context(), dsn, sqlstore.PoolOpts{})
			defer db.Close()
			start := time.Now()
			names, _ := fs.Glob(migrations.FS, "*.sql")
			for _, n := range names {
				b, _ := fs.ReadFile(migrations.FS, n)
				if strings.Contains(n, "shape") {
					continue
				}
				if _, err := db.Exec(string(b)); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("raw %v", time.Since(start))
			start = time.Now()
			for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o"} {
				if _, err := db.Exec("CREATE TABLE like_" + n + " LIKE jetmon_events"); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("15 x LIKE %v", time.Since(start))
		})
	}
}
