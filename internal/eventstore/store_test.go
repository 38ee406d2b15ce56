package eventstore_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/eventstore"
	"github.com/jetmon-mesh/jetmon/internal/sqlstore"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestNew(t *testing.T) {
	t.Parallel()
	db := testenv.NewDB(t)
	tests := []struct {
		name    string
		nilDB   bool
		opts    eventstore.Opts
		wantErr string
	}{
		{name: "valid", opts: eventstore.Opts{Payload: jsonPayload}},
		{name: "nil db", nilDB: true, opts: eventstore.Opts{Payload: jsonPayload}, wantErr: "nil db"},
		{name: "no payload encoder", wantErr: "nil Payload"},
		{name: "subject too long", opts: eventstore.Opts{Payload: jsonPayload, OutboxSubject: strings.Repeat("s", 256)},
			wantErr: "subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := db
			if tt.nilDB {
				d = nil
			}
			_, err := eventstore.New(d, tt.opts)
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("New = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestApplyFenced(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		epoch uint64
	}{
		{name: "a newer leader advanced the fence", epoch: testEpoch - 1},
		{name: "the writer never advanced the fence", epoch: testEpoch + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, s := newStore(t, eventstore.Opts{Projection: true})
			apply(t, s, openHTTP(2, at(0)))
			before := counts(t, db)
			_, err := s.Apply(t.Context(), tt.epoch,
				[]uptime.Change{openHTTP(1, at(1)), closeHTTP(2, uptime.ReasonFalseAlarm, at(1))},
				[]uptime.FalsePositive{{BlogID: 2, HTTPCode: 500, At: at(1)}}, map[int64]time.Time{1: at(1)})
			if !errors.Is(err, sqlstore.ErrFenced) {
				t.Fatalf("Apply = %v, want ErrFenced", err)
			}
			if got := counts(t, db); got != before {
				t.Errorf("rows = %+v after a fenced Apply, want %+v", got, before)
			}
			if got := readSite(t, db, 1); got.status != 1 || got.lastChange.Valid || got.lastAlert.Valid {
				t.Errorf("site 1 = %+v, want untouched", got)
			}
			if got := readSite(t, db, 2); got.status != 0 {
				t.Errorf("site 2 status = %d, want the open event's 0", got.status)
			}
		})
	}
}

func TestApplyRejectsInvalidChanges(t *testing.T) {
	t.Parallel()
	noBlog := openHTTP(0, at(0))
	noTime := openHTTP(1, at(0))
	noTime.Transition.ChangedAt = time.Time{}
	noStart := openHTTP(1, at(0))
	noStart.Event.StartedAt = time.Time{}
	wrongReason := openHTTP(1, at(0))
	wrongReason.Transition.Reason = uptime.ReasonVerifierConfirmed
	otherBlog := openHTTP(1, at(0))
	otherBlog.Transition.BlogID = 2
	noReason := closeHTTP(1, "", at(0))
	badOp := openHTTP(1, at(0))
	badOp.Op = "merge"
	longState := openHTTP(1, at(0))
	longState.Event.State = uptime.State(strings.Repeat("x", 33))
	badMeta := openHTTP(1, at(0))
	badMeta.Event.Metadata = map[string]any{"f": func() {}}
	tests := map[string]uptime.Change{
		"no blog id": noBlog, "no transition time": noTime, "no started_at": noStart,
		"an open with another reason": wrongReason, "the transition names another blog": otherBlog,
		"a close without a reason": noReason, "an unknown op": badOp, "a state too long": longState,
		"metadata that is not JSON": badMeta,
	}
	db, s := newStore(t, eventstore.Opts{Projection: true})
	for name, bad := range tests {
		_, err := s.Apply(t.Context(), testEpoch, []uptime.Change{openHTTP(3, at(0)), bad}, nil, nil)
		if !errors.Is(err, eventstore.ErrInvalidChange) {
			t.Errorf("%s: Apply = %v, want ErrInvalidChange", name, err)
		}
	}
	_, err := s.Apply(t.Context(), testEpoch, nil, []uptime.FalsePositive{{BlogID: 0}}, nil)
	if !errors.Is(err, eventstore.ErrInvalidChange) {
		t.Errorf("false positive without blog: Apply = %v, want ErrInvalidChange", err)
	}
	if got := counts(t, db); got != (tableCounts{}) {
		t.Errorf("rejected changes wrote %+v", got)
	}
}

func TestOutbox(t *testing.T) {
	t.Parallel()
	db, s := newStore(t, eventstore.Opts{Projection: true})
	written := apply(t, s, openHTTP(1, at(0)), promote(1, at(1)), closeHTTP(1, uptime.ReasonVerifierCleared, at(2)))
	if n := count(t, db, "SELECT COUNT(*) FROM jetmon_outbox WHERE subject = ?", eventstore.DefaultOutboxSubject); n != 3 {
		t.Fatalf("%d outbox rows on %s, want 3", n, eventstore.DefaultOutboxSubject)
	}
	first, err := s.Pending(t.Context(), 2)
	if err != nil || len(first) != 2 {
		t.Fatalf("Pending(2) = %d rows, %v, want 2", len(first), err)
	}
	for i, row := range first {
		var item eventstore.OutboxItem
		if err := json.Unmarshal(row.Payload, &item); err != nil {
			t.Fatalf("payload of row %d: %v", row.ID, err)
		}
		if row.TransitionID != written[i].ID || item.Transition.ID != written[i].ID ||
			item.Event.ID != written[i].EventID || item.Transition.Reason != written[i].Reason {
			t.Errorf("row %d = transition %d, payload %+v, want transition %+v", i, row.TransitionID, item, written[i])
		}
	}
	var item eventstore.OutboxItem
	if err := json.Unmarshal(first[1].Payload, &item); err != nil || item.Event.State != uptime.StateDown ||
		!reflect.DeepEqual(item.Transition.Metadata, map[string]any{"votes": []any{map[string]any{"region": "us", "up": false}}}) {
		t.Errorf("promotion payload = %+v, %v, want the Down event and the votes", item, err)
	}
	if err := s.Delete(t.Context(), []int64{first[0].ID, first[1].ID}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	rest, err := s.Pending(t.Context(), 10)
	if err != nil || len(rest) != 1 || rest[0].TransitionID != written[2].ID {
		t.Fatalf("Pending after Delete = %+v, %v, want the close's row", rest, err)
	}
	if err := s.Delete(t.Context(), nil); err != nil {
		t.Errorf("Delete(nil) = %v", err)
	}
	if _, err := s.Pending(t.Context(), 0); err == nil {
		t.Error("Pending(0) succeeded, want an error")
	}
}

func TestApplyReturnsTheWrittenTransitions(t *testing.T) {
	t.Parallel()
	db, s := newStore(t, eventstore.Opts{Projection: true})
	written := apply(t, s, openHTTP(1, at(0)), promote(1, at(1)))
	rows := readTransitions(t, db, 1)
	if len(written) != 2 || len(rows) != 2 {
		t.Fatalf("written %d, stored %d, want 2", len(written), len(rows))
	}
	for i, tr := range written {
		if tr.ID != rows[i].id || tr.EventID != rows[i].eventID || tr.BlogID != 1 || tr.CheckType != uptime.CheckTypeHTTP ||
			tr.Source != "local" || !tr.ChangedAt.Equal(rows[i].changedAt) {
			t.Errorf("written %d = %+v, stored %+v", i, tr, rows[i])
		}
	}
	if written[1].SeverityBefore == nil || *written[1].SeverityBefore != uptime.SeveritySeemsDown ||
		written[1].StateBefore != uptime.StateSeemsDown || *written[1].SeverityAfter != uptime.SeverityDown {
		t.Errorf("promotion = %+v, want Seems Down (3) before, Down (4) after", written[1])
	}
}

func TestOpenEvents(t *testing.T) {
	t.Parallel()
	_, s := newStore(t, eventstore.Opts{Projection: true})
	apply(t, s, openHTTP(1, at(0)), promote(1, at(1)),
		tlsExpiry(uptime.OpOpen, 2, uptime.SeverityWarning, uptime.ReasonOpened, 12, at(2)),
		openHTTP(3, at(3)), closeHTTP(3, uptime.ReasonProbeCleared, at(4)))
	got, err := s.OpenEvents(t.Context())
	if err != nil {
		t.Fatalf("OpenEvents: %v", err)
	}
	want := []uptime.Event{
		{BlogID: 1, CheckType: uptime.CheckTypeHTTP, Severity: uptime.SeverityDown, State: uptime.StateDown,
			StartedAt: at(0), Metadata: map[string]any{"http_code": 503.0}},
		{BlogID: 2, CheckType: uptime.CheckTypeTLSExpiry, Severity: uptime.SeverityWarning, State: uptime.StateWarning,
			StartedAt: at(2), Metadata: map[string]any{"days_until": 12.0}},
	}
	if len(got) != len(want) {
		t.Fatalf("OpenEvents = %+v, want %+v", got, want)
	}
	for i := range want {
		want[i].ID = got[i].ID
		if got[i].ID == 0 || !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("open event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
