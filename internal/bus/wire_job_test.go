package bus_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func fixtureJob() bus.Job {
	return bus.Job{DeliveryID: 5001, Kind: "webhook", DestinationID: 12, TransitionID: 9001, Generation: 1}
}

func TestJobRoundTrip(t *testing.T) {
	t.Parallel()
	for name, j := range map[string]bus.Job{
		"wpcom to destination 0": {DeliveryID: 1, Kind: "wpcom", TransitionID: 2},
		"alert retried twice":    {DeliveryID: 3, Kind: "alert", DestinationID: 4, TransitionID: 5, Generation: 2},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := bus.EncodeJob(j)
			if err != nil {
				t.Fatal(err)
			}
			got, err := bus.DecodeJob(b)
			if err != nil || got != j {
				t.Errorf("round trip = %+v, %v; want %+v", got, err, j)
			}
		})
	}
}

func TestDecodeJobRejects(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in          string
		want        string
		wantVersion bool
	}{
		"not json":             {`{"v":1,`, "unexpected end", false},
		"missing version":      {`{"delivery_id":1,"kind":"webhook","destination_id":1,"transition_id":1,"generation":0}`, `missing field "v"`, false},
		"future version":       {`{"v":2,"delivery_id":1}`, "v=2, want 1", true},
		"unknown kind":         {`{"v":1,"delivery_id":1,"kind":"transition","destination_id":1,"transition_id":1,"generation":0}`, `"kind"`, false},
		"no delivery id":       {`{"v":1,"kind":"alert","destination_id":1,"transition_id":1,"generation":0}`, `"delivery_id"`, false},
		"no transition id":     {`{"v":1,"delivery_id":1,"kind":"alert","destination_id":1,"generation":0}`, `"transition_id"`, false},
		"no destination":       {`{"v":1,"delivery_id":1,"kind":"alert","transition_id":1,"generation":0}`, `"destination_id"`, false},
		"negative destination": {`{"v":1,"delivery_id":1,"kind":"alert","destination_id":-4,"transition_id":1,"generation":0}`, `"destination_id"`, false},
		"no generation":        {`{"v":1,"delivery_id":1,"kind":"alert","destination_id":1,"transition_id":1}`, `"generation"`, false},
		"negative generation":  {`{"v":1,"delivery_id":1,"kind":"alert","destination_id":1,"transition_id":1,"generation":-1}`, `"generation"`, false},
		"string id":            {`{"v":1,"delivery_id":"1","kind":"alert","destination_id":1,"transition_id":1,"generation":0}`, "delivery_id", false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := bus.DecodeJob([]byte(tt.in))
			if !errors.Is(err, bus.ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("decode = %v, want ErrMalformed mentioning %q", err, tt.want)
			}
			if got := errors.Is(err, bus.ErrUnsupportedVersion); got != tt.wantVersion {
				t.Errorf("errors.Is(ErrUnsupportedVersion) = %v, want %v", got, tt.wantVersion)
			}
		})
	}
}

func TestEncodeJobRejects(t *testing.T) {
	t.Parallel()
	for name, j := range map[string]bus.Job{
		"empty kind":          {DeliveryID: 1, TransitionID: 1},
		"fan-out kind":        {DeliveryID: 1, Kind: "fanout", TransitionID: 1},
		"zero delivery":       {Kind: "webhook", TransitionID: 1},
		"zero transition":     {DeliveryID: 1, Kind: "webhook"},
		"negative generation": {DeliveryID: 1, Kind: "webhook", TransitionID: 1, Generation: -1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := bus.EncodeJob(j); !errors.Is(err, bus.ErrMalformed) {
				t.Errorf("encode %+v = %v, want ErrMalformed", j, err)
			}
		})
	}
}

// TestJobNames: the job subject and message id formats are a public
// contract, and the dispatch consumers are named after the delivery kinds.
func TestJobNames(t *testing.T) {
	t.Parallel()
	if got := bus.JobSubject("webhook", 12); got != "jetmon.deliver.webhook.12" {
		t.Errorf("JobSubject = %q", got)
	}
	if got := bus.JobSubject("wpcom", 0); got != "jetmon.deliver.wpcom.0" {
		t.Errorf("JobSubject wpcom = %q", got)
	}
	if got := bus.JobMsgID(5001, 2); got != "delivery-5001-2" {
		t.Errorf("JobMsgID = %q", got)
	}
	kinds := map[string]uptime.DeliveryKind{bus.ConsumerWebhook: uptime.DeliveryWebhook,
		bus.ConsumerAlert: uptime.DeliveryAlert, bus.ConsumerWPCOM: uptime.DeliveryWPCOM}
	for consumer, kind := range kinds {
		if consumer != string(kind) {
			t.Errorf("consumer %q for kind %q", consumer, kind)
		}
	}
	want := []string{"fanout", "webhook", "alert", "wpcom"}
	if got := bus.DeliveryConsumers(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("DeliveryConsumers = %v, want %v", got, want)
	}
}
