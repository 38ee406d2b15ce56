package transporttest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update rewrites the golden files: go test ./deliverer/<transport> -update.
//
//nolint:gochecknoglobals // a test flag must be registered before the test binary parses its flags
var update = flag.Bool("update", false, "rewrite testdata golden files")

// Golden compares got with testdata/<name>.golden of the package under
// test, or rewrites that file when the test runs with -update.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed (go test -update if intended)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
