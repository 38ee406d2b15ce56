package webhook_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer/internal/transporttest"
)

// payload is the fixture frozen payload.
func payload(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// at is the fixed time of every fixture (t=1773500966).
func at() time.Time { return transporttest.At() }
