package bus_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// fixtureTransition is a verifier_confirmed transition with two votes;
// its metadata holds only values that decode back as they are.
func fixtureTransition() bus.TransitionMessage {
	site := fixtureSite()
	down := at().Add(-2 * time.Minute)
	meta := map[string]any{"verifier_quorum": float64(2), "verifier_confirmed": float64(2), "note": "regional"}
	return bus.TransitionMessage{
		Transition: uptime.Transition{
			ID: 9001, EventID: 77, BlogID: site.BlogID, CheckType: uptime.CheckTypeHTTP,
			SeverityBefore: ptr(uptime.SeveritySeemsDown), SeverityAfter: ptr(uptime.SeverityDown),
			StateBefore: uptime.StateSeemsDown, StateAfter: uptime.StateDown,
			Reason: uptime.ReasonVerifierConfirmed, Source: "verifier", Metadata: meta, ChangedAt: at(),
			Notify: uptime.Notification{Notify: true, Kind: "down"},
		},
		Event: uptime.Event{ID: 77, BlogID: site.BlogID, CheckType: uptime.CheckTypeHTTP,
			Severity: uptime.SeverityDown, State: uptime.StateDown, StartedAt: down,
			Metadata: map[string]any{"http_code": float64(503), "url": site.Spec.URL, "down_notified": true}},
		Site: uptime.Site{BlogID: site.BlogID, Bucket: site.Bucket, Spec: uptime.CheckSpec{BlogID: site.BlogID, URL: site.Spec.URL},
			MaintenanceStart: site.MaintenanceStart, MaintenanceEnd: site.MaintenanceEnd},
		Votes: []uptime.Vote{fixtureVote(), {Region: "ap-south", NodeID: "veriflier-ap-1", HTTPCode: 503,
			RTT: 120 * time.Millisecond, CheckedAt: at()}},
	}
}

func TestTransitionMessageRoundTrip(t *testing.T) {
	t.Parallel()
	opened := uptime.Transition{ID: 1, EventID: 2, BlogID: 3, CheckType: uptime.CheckTypeTLSExpiry,
		SeverityAfter: ptr(uptime.SeverityWarning), StateAfter: uptime.StateWarning, Reason: uptime.ReasonOpened,
		Source: "local", ChangedAt: at(), Notify: uptime.Notification{Kind: "advisory", Suppressed: "maintenance"}}
	closed := uptime.Transition{ID: 4, EventID: 2, BlogID: 3, CheckType: uptime.CheckTypeHTTP,
		SeverityBefore: ptr(uptime.SeveritySeemsDown), StateBefore: uptime.StateSeemsDown, StateAfter: uptime.StateResolved,
		Reason: uptime.ReasonProbeCleared, Source: "local", ChangedAt: at()}
	tests := map[string]bus.TransitionMessage{
		"open without votes or window": {Transition: opened,
			Event: uptime.Event{ID: 2, BlogID: 3, CheckType: uptime.CheckTypeTLSExpiry, Severity: uptime.SeverityWarning,
				State: uptime.StateWarning, StartedAt: at()},
			Site: uptime.Site{BlogID: 3, Spec: uptime.CheckSpec{BlogID: 3, URL: "https://a/"}}},
		"close": {Transition: closed,
			Event: uptime.Event{ID: 2, BlogID: 3, CheckType: uptime.CheckTypeHTTP, Severity: uptime.SeveritySeemsDown,
				State: uptime.StateSeemsDown, StartedAt: at().Add(-time.Minute), EndedAt: at(),
				ResolutionReason: uptime.ReasonProbeCleared},
			Site: uptime.Site{BlogID: 3, Bucket: 9, Spec: uptime.CheckSpec{BlogID: 3, URL: "https://a/"}}},
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := bus.EncodeTransitionMessage(m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := bus.DecodeTransitionMessage(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Errorf("round trip:\n got: %#v\nwant: %#v", got, m)
			}
		})
	}
}

func TestDecodeTransitionMessageRejects(t *testing.T) {
	t.Parallel()
	valid, err := bus.EncodeTransitionMessage(fixtureTransition())
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		edit func(m map[string]any)
		want string
	}{
		"other version":      {func(m map[string]any) { m["v"] = 2 }, "unsupported"},
		"no transition id":   {func(m map[string]any) { delete(m["transition"].(map[string]any), "id") }, "transition.id"},
		"no reason":          {func(m map[string]any) { m["transition"].(map[string]any)["reason"] = "" }, "reason"},
		"no event id":        {func(m map[string]any) { m["event"].(map[string]any)["id"] = 0 }, "event.id"},
		"vote without up":    {func(m map[string]any) { delete(m["votes"].([]any)[0].(map[string]any), "up") }, `"up"`},
		"no changed_at":      {func(m map[string]any) { delete(m["transition"].(map[string]any), "changed_at") }, "changed_at"},
		"no event start":     {func(m map[string]any) { delete(m["event"].(map[string]any), "started_at") }, "started_at"},
		"negative vote code": {func(m map[string]any) { m["votes"].([]any)[0].(map[string]any)["error_code"] = -1 }, "error_code"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var m map[string]any
			if err := json.Unmarshal(valid, &m); err != nil {
				t.Fatal(err)
			}
			tt.edit(m)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = bus.DecodeTransitionMessage(b)
			if !errors.Is(err, bus.ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("decode = %v, want ErrMalformed mentioning %q", err, tt.want)
			}
		})
	}
}
