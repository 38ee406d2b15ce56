package migrations_test

import (
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jetmon-mesh/jetmon/migrations"
)

var fileName = regexp.MustCompile(`^(\d{6})_[a-z0-9_]+\.up\.sql$`)

// sqlFiles returns every embedded file name with its statement text (the
// file without its "--" comment lines).
func sqlFiles(t *testing.T) map[string]string {
	t.Helper()
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		t.Fatalf("read embedded migrations: %v", err)
	}
	files := make(map[string]string, len(entries))
	for _, e := range entries {
		b, err := fs.ReadFile(migrations.FS, e.Name())
		if err != nil {
			t.Fatalf("read %s: %v", e.Name(), err)
		}
		var stmt []string
		for line := range strings.Lines(string(b)) {
			if !strings.HasPrefix(strings.TrimSpace(line), "--") {
				stmt = append(stmt, line)
			}
		}
		files[e.Name()] = strings.Join(stmt, "")
	}
	if len(files) == 0 {
		t.Fatal("no migrations embedded")
	}
	return files
}

func TestFileNamesAreContiguous(t *testing.T) {
	t.Parallel()
	files := sqlFiles(t)
	seen := make(map[int]string, len(files))
	for name := range files {
		m := fileName.FindStringSubmatch(name)
		if m == nil {
			t.Errorf("%s: name must match %s", name, fileName)
			continue
		}
		n, _ := strconv.Atoi(m[1])
		if prev, dup := seen[n]; dup {
			t.Errorf("%s and %s share version %d", prev, name, n)
		}
		seen[n] = name
	}
	for n := 1; n <= len(files); n++ {
		if _, ok := seen[n]; !ok {
			t.Errorf("version %06d missing: versions must run 1..%d without gaps", n, len(files))
		}
	}
}

func TestOneStatementPerFile(t *testing.T) {
	t.Parallel()
	for name, stmt := range sqlFiles(t) {
		if strings.TrimSpace(stmt) == "" {
			t.Errorf("%s: no statement", name)
		}
		if strings.Contains(stmt, ";") {
			t.Errorf("%s: contains ';' outside a comment line: one statement per file, no trailing semicolon", name)
		}
	}
}

func TestPortableSQL(t *testing.T) {
	t.Parallel()
	banned := []struct {
		name    string
		pattern *regexp.Regexp
	}{
		{"MariaDB ADD COLUMN IF NOT EXISTS", regexp.MustCompile(`(?i)ADD\s+COLUMN\s+IF\s+NOT\s+EXISTS`)},
		{"MariaDB PERSISTENT generated column", regexp.MustCompile(`(?i)\bPERSISTENT\b`)},
		{"MariaDB CREATE OR REPLACE", regexp.MustCompile(`(?i)CREATE\s+OR\s+REPLACE`)},
		{"CHECK constraint", regexp.MustCompile(`(?i)\bCHECK\s*\(`)},
		{"version-specific collation", regexp.MustCompile(`(?i)utf8mb4_0900|uca1400`)},
		{"utf8 alias (utf8mb3)", regexp.MustCompile(`(?i)\butf8(mb3)?\b`)},
		{"MyISAM or other engine", regexp.MustCompile(`(?i)ENGINE\s*=\s*(MyISAM|Aria|MEMORY)`)},
		{"foreign key", regexp.MustCompile(`(?i)\bFOREIGN\s+KEY\b`)},
		{"TIMESTAMP column (use DATETIME(3))", regexp.MustCompile(`(?i)\bTIMESTAMP\b`)},
	}
	for name, stmt := range sqlFiles(t) {
		for _, b := range banned {
			if loc := b.pattern.FindStringIndex(stmt); loc != nil {
				t.Errorf("%s: %s: %q", name, b.name, stmt[loc[0]:loc[1]])
			}
		}
	}
}

func TestCreateTableOptions(t *testing.T) {
	t.Parallel()
	createTable := regexp.MustCompile(`(?i)^\s*CREATE\s+TABLE`)
	options := regexp.MustCompile(`ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci\s*$`)
	files := sqlFiles(t)
	n := 0
	for name, stmt := range files {
		if !createTable.MatchString(stmt) {
			continue
		}
		n++
		if !options.MatchString(stmt) {
			t.Errorf("%s: CREATE TABLE must end with %q", name, options)
		}
	}
	if n == 0 {
		t.Errorf("no CREATE TABLE found in %d files", len(files))
	}
}
