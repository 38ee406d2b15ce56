package deliverer

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestPayloadGolden freezes the payload every delivery carries (and
// docs/webhooks.md documents): a confirmed down with two votes.
func TestPayloadGolden(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		m         TransitionMessage
		eventType string
		golden    string
	}{
		"confirmed down": {downTransition(), uptime.EventStateChanged, "payload.golden.json"},
		"recovery":       {recoveryTransition(), uptime.EventClosed, "payload_recovery.golden.json"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := BuildPayload(tc.m, tc.eventType)
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, b, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, pretty.Bytes(), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("payload differs from %s:\n%s", path, pretty.Bytes())
			}
			p, err := ParsePayload(b)
			if err != nil {
				t.Fatal(err)
			}
			if p.Type != tc.eventType || p.Transition.ID != tc.m.Transition.ID {
				t.Errorf("parsed %+v", p)
			}
		})
	}
}

func TestParsePayloadRejects(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"not json":      `{`,
		"wrong version": `{"v":2,"transition":{"id":1},"event":{"id":1},"site":{"id":1}}`,
		"no ids":        `{"v":1,"transition":{"id":0},"event":{"id":1},"site":{"id":1}}`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParsePayload([]byte(in)); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestLocalCheck(t *testing.T) {
	t.Parallel()
	down, rec, open := downTransition(), recoveryTransition(), openTransition()
	open.Event.Metadata = nil
	checked := fixtureTime.Add(-2 * time.Minute)
	tests := map[string]struct {
		m    TransitionMessage
		want *PayloadCheck
	}{
		"down falls back to the event's first failure": {down, &PayloadCheck{Region: "us-east", HTTPCode: 503,
			ErrorName: "none", StatusType: "server", RTTMs: 412, CheckedAt: &checked}},
		"close carries the clearing check": {rec, &PayloadCheck{Region: "us-east", Success: true, HTTPCode: 200,
			ErrorName: "none", StatusType: "success", RTTMs: 88, CheckedAt: ptr(fixtureTime.Add(10 * time.Minute))}},
		"no check anywhere": {open, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := localCheck(tc.m.Transition, tc.m.Event)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("check = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
