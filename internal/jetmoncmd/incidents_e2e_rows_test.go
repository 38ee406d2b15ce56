package jetmoncmd

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// What the end-to-end incident tests read back from MariaDB and
// JETMON_DELIVERY, and their checks of it.

// e2eTransition is one jetmon_event_transitions row with its event's
// check type.
type e2eTransition struct {
	id, eventID             int64
	checkType               string
	reason, source          string
	stateBefore, stateAfter sql.NullString
	sevBefore, sevAfter     sql.NullInt64
	metadata                []byte
	changedAt               time.Time
}

// transitions lists blog's transition rows in id order.
func (w *e2eWorld) transitions(blog int64) ([]e2eTransition, error) {
	return queryRows(w.t.Context(), w.db, func(r *sql.Rows) (e2eTransition, error) {
		var tr e2eTransition
		err := r.Scan(&tr.id, &tr.eventID, &tr.checkType, &tr.reason, &tr.source, &tr.stateBefore, &tr.stateAfter,
			&tr.sevBefore, &tr.sevAfter, &tr.metadata, &tr.changedAt)
		return tr, err
	}, `SELECT t.id, t.event_id, e.check_type, t.reason, t.source, t.state_before, t.state_after, t.severity_before,
		t.severity_after, t.metadata, t.changed_at
		FROM jetmon_event_transitions t JOIN jetmon_events e ON e.id = t.event_id WHERE t.blog_id = ? ORDER BY t.id`, blog)
}

// checks is how many checks of blog were committed (the hourly roll-ups).
func (w *e2eWorld) checks(blog int64) (int, error) {
	var n int
	err := w.db.QueryRowContext(w.t.Context(),
		"SELECT COALESCE(SUM(checks), 0) FROM jetmon_check_rollups_hourly WHERE blog_id = ?", blog).Scan(&n)
	return n, err
}

// lastStatusChange is blog's last_status_change (NULL: zero).
func (w *e2eWorld) lastStatusChange(blog int64) time.Time {
	w.t.Helper()
	var at sql.NullTime
	if err := w.db.QueryRowContext(w.t.Context(),
		"SELECT last_status_change FROM jetpack_monitor_sites WHERE blog_id = ?", blog).Scan(&at); err != nil {
		w.t.Fatal(err)
	}
	return at.Time
}

// failuresUntil is how many failed checks of blog the check history holds
// up to at.
func (w *e2eWorld) failuresUntil(blog int64, at time.Time) int {
	w.t.Helper()
	var n int
	if err := w.db.QueryRowContext(w.t.Context(),
		"SELECT COUNT(*) FROM jetmon_check_history WHERE blog_id = ? AND success = 0 AND checked_at <= ?",
		blog, at).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

// siteStatus is blog's legacy projection.
func (w *e2eWorld) siteStatus(blog int64) int {
	w.t.Helper()
	var status int
	if err := w.db.QueryRowContext(w.t.Context(),
		"SELECT site_status FROM jetpack_monitor_sites WHERE blog_id = ?", blog).Scan(&status); err != nil {
		w.t.Fatal(err)
	}
	return status
}

// e2eRow is what a transition row of a reason must hold.
type e2eRow struct {
	before, after       string // "" for NULL
	sevBefore, sevAfter int64  // -1 for NULL
	source              string
}

// e2eRows are the HTTP event's rows by reason.
func e2eRows() map[string]e2eRow {
	return map[string]e2eRow{
		"opened":             {"", "Seems Down", -1, 3, "local"},
		"verifier_confirmed": {"Seems Down", "Down", 3, 4, "verifier"},
		"verifier_cleared":   {"Down", "Resolved", 4, -1, "local"},
		"false_alarm":        {"Seems Down", "Resolved", 3, -1, "verifier"},
	}
}

// rowOf is tr's values in e2eRow form.
func rowOf(tr e2eTransition) e2eRow {
	got := e2eRow{tr.stateBefore.String, tr.stateAfter.String, -1, -1, tr.source}
	if tr.sevBefore.Valid {
		got.sevBefore = tr.sevBefore.Int64
	}
	if tr.sevAfter.Valid {
		got.sevAfter = tr.sevAfter.Int64
	}
	return got
}

// waitStep waits until blog's transitions have exactly reasons and its
// site_status is status, then checks every row (all of one HTTP event) and
// that last_status_change is the last transition's time.
func (w *e2eWorld) waitStep(blog int64, status int, reasons []string) {
	w.t.Helper()
	var trs []e2eTransition
	waitFor(w.t, stepBudget, fmt.Sprintf("transitions %v and site_status %d", reasons, status), func() error {
		var err error
		if trs, err = w.transitions(blog); err != nil {
			return err
		}
		got := make([]string, len(trs))
		for i, tr := range trs {
			got[i] = tr.reason
		}
		if s := w.siteStatus(blog); !slices.Equal(got, reasons) || s != status {
			return fmt.Errorf("transitions %v, site_status %d", got, s)
		}
		return nil
	})
	for _, tr := range trs {
		want := e2eRows()[tr.reason]
		if got := rowOf(tr); got != want || tr.eventID != trs[0].eventID || tr.checkType != uptime.CheckTypeHTTP {
			w.t.Errorf("%s row %+v (%s event %d), want %+v of http event %d", tr.reason, got, tr.checkType,
				tr.eventID, want, trs[0].eventID)
		}
	}
	last := trs[len(trs)-1]
	if got, want := w.lastStatusChange(blog), last.changedAt.Truncate(time.Second); !got.Equal(want) {
		w.t.Errorf("last_status_change %v after %s, want its changed_at %v", got, last.reason, want)
	}
}

// wantConfirmedAfter checks that blog's verifier_confirmed transition came
// after at least failures failed checks: NUM_OF_CHECKS consecutive local
// failures ask for the confirmation.
func (w *e2eWorld) wantConfirmedAfter(blog int64, failures int) {
	w.t.Helper()
	trs, err := w.transitions(blog)
	if err != nil {
		w.t.Fatal(err)
	}
	i := slices.IndexFunc(trs, func(tr e2eTransition) bool { return tr.reason == string(uptime.ReasonVerifierConfirmed) })
	if i < 0 {
		w.t.Fatal("no verifier_confirmed transition")
	}
	if n := w.failuresUntil(blog, trs[i].changedAt); n < failures {
		w.t.Errorf("confirmed Down after %d failed checks, want at least %d", n, failures)
	}
}

// e2eEvent is one jetmon_events row.
type e2eEvent struct {
	id         int64
	checkType  string
	state      string
	severity   int
	resolution sql.NullString
	ended      bool
	metadata   []byte
}

// events lists blog's events in id order.
func (w *e2eWorld) events(blog int64) []e2eEvent {
	w.t.Helper()
	evs, err := queryRows(w.t.Context(), w.db, func(r *sql.Rows) (e2eEvent, error) {
		var ev e2eEvent
		err := r.Scan(&ev.id, &ev.checkType, &ev.state, &ev.severity, &ev.resolution, &ev.ended, &ev.metadata)
		return ev, err
	}, `SELECT id, check_type, state, severity, resolution_reason, ended_at IS NOT NULL, metadata
		FROM jetmon_events WHERE blog_id = ? ORDER BY id`, blog)
	if err != nil {
		w.t.Fatal(err)
	}
	return evs
}

// wantEvent checks blog's only event: HTTP, its state, and its resolution
// ("": still open).
func (w *e2eWorld) wantEvent(blog int64, state uptime.State, resolution uptime.Reason) {
	w.t.Helper()
	evs := w.events(blog)
	if len(evs) != 1 {
		w.t.Fatalf("events %+v, want one", evs)
	}
	ev := evs[0]
	if ev.checkType != uptime.CheckTypeHTTP || ev.state != string(state) || ev.resolution.String != string(resolution) ||
		ev.ended != (resolution != "") {
		w.t.Errorf("event %s, state %q, resolution %q, ended %v; want http, %q, %q", ev.checkType, ev.state,
			ev.resolution.String, ev.ended, state, resolution)
	}
}

// wantFirstFailureStart checks that the event started at the first failed
// check (the oldest failure in the check history), frozen.
func (w *e2eWorld) wantFirstFailureStart(blog int64) {
	w.t.Helper()
	var started, firstFailure time.Time
	err := w.db.QueryRowContext(w.t.Context(), `SELECT e.started_at,
		(SELECT MIN(h.checked_at) FROM jetmon_check_history h WHERE h.blog_id = e.blog_id AND h.success = 0)
		FROM jetmon_events e WHERE e.blog_id = ?`, blog).Scan(&started, &firstFailure)
	if err != nil {
		w.t.Fatal(err)
	}
	if !started.Equal(firstFailure) {
		w.t.Errorf("event started_at %v, want the first failed check's %v", started, firstFailure)
	}
}

// e2eVote is one vote in a transition's metadata.
type e2eVote struct {
	Region string `json:"region"`
	Up     bool   `json:"up"`
}

// votesOf decodes the votes of a transition's metadata.
func votesOf(metadata []byte) ([]e2eVote, error) {
	if len(metadata) == 0 {
		return nil, nil
	}
	var meta struct {
		Votes []e2eVote `json:"votes"`
	}
	err := json.Unmarshal(metadata, &meta)
	return meta.Votes, err
}

// wantVotes checks that blog's transition of reason carries one vote per
// region, every one of them up (or down).
func (w *e2eWorld) wantVotes(blog int64, reason uptime.Reason, up bool, regions ...string) {
	w.t.Helper()
	trs, err := w.transitions(blog)
	if err != nil {
		w.t.Fatal(err)
	}
	i := slices.IndexFunc(trs, func(tr e2eTransition) bool { return tr.reason == string(reason) })
	if i < 0 {
		w.t.Fatalf("no %s transition", reason)
	}
	votes, err := votesOf(trs[i].metadata)
	if err != nil {
		w.t.Fatal(err)
	}
	var got []string
	for _, v := range votes {
		if v.Up != up {
			w.t.Errorf("%s vote of %s: up %v, want %v", reason, v.Region, v.Up, up)
		}
		got = append(got, v.Region)
	}
	if slices.Sort(got); !slices.Equal(got, regions) {
		w.t.Errorf("%s votes from %v, want %v", reason, got, regions)
	}
}

// wantFalsePositive checks blog's jetmon_false_positives: one row, for its
// only event, with the local failure's HTTP code.
func (w *e2eWorld) wantFalsePositive(blog int64, httpCode int) {
	w.t.Helper()
	evs := w.events(blog)
	got, err := queryRows(w.t.Context(), w.db, func(r *sql.Rows) (string, error) {
		var event sql.NullInt64
		var code int
		err := r.Scan(&event, &code)
		return fmt.Sprintf("event %d http %d", event.Int64, code), err
	}, "SELECT event_id, http_code FROM jetmon_false_positives WHERE blog_id = ?", blog)
	if err != nil {
		w.t.Fatal(err)
	}
	if len(evs) != 1 || !slices.Equal(got, []string{fmt.Sprintf("event %d http %d", evs[0].id, httpCode)}) {
		w.t.Errorf("false positives %v for events %+v, want one for the only event with http %d", got, evs, httpCode)
	}
}

// wantDelivered checks that JETMON_DELIVERY holds one transition message per
// transition row of blog, in order, with its Nats-Msg-Id and the votes of
// its row, once the relay has emptied the outbox.
func (w *e2eWorld) wantDelivered(blog int64) {
	w.t.Helper()
	waitFor(w.t, stepBudget, "outbox drained", func() error {
		var n int
		if err := w.db.QueryRowContext(w.t.Context(), "SELECT COUNT(*) FROM jetmon_outbox").Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d rows", n)
		}
		return nil
	})
	trs, err := w.transitions(blog)
	if err != nil {
		w.t.Fatal(err)
	}
	var want []string
	for _, tr := range trs {
		votes, err := votesOf(tr.metadata)
		if err != nil {
			w.t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("%d:%s:%s:%d", tr.id, tr.checkType, tr.reason, len(votes)))
	}
	if got := w.deliveries(blog); !slices.Equal(got, want) {
		w.t.Errorf("deliveries (id:check_type:reason:votes) %v, want %v", got, want)
	}
}

// deliveries lists JETMON_DELIVERY's transition messages as
// id:check_type:reason:votes, checking each message's envelope.
func (w *e2eWorld) deliveries(blog int64) []string {
	w.t.Helper()
	ctx := w.t.Context()
	stream, err := w.js.Stream(ctx, bus.StreamDelivery)
	if err != nil {
		w.t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	var url string
	if err := w.db.QueryRowContext(ctx, "SELECT monitor_url FROM jetpack_monitor_sites WHERE blog_id = ?",
		blog).Scan(&url); err != nil {
		w.t.Fatal(err)
	}
	var got []string
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		msg, err := stream.GetMsg(ctx, seq)
		if err != nil {
			w.t.Fatalf("get delivery %d: %v", seq, err)
		}
		m, err := bus.DecodeTransitionMessage(msg.Data)
		if err != nil {
			w.t.Fatalf("delivery %d: %v", seq, err)
		}
		if msg.Subject != bus.SubjectDeliverTransition || msg.Header.Get(nats.MsgIdHdr) != bus.TransitionMsgID(m.Transition.ID) {
			w.t.Errorf("delivery %d on %s with id %q", seq, msg.Subject, msg.Header.Get(nats.MsgIdHdr))
		}
		if m.Event.BlogID != blog || m.Site.BlogID != blog || m.Site.Spec.URL != url {
			w.t.Errorf("delivery %d of event %+v, site %+v; want blog %d at %s", seq, m.Event, m.Site, blog, url)
		}
		got = append(got, fmt.Sprintf("%d:%s:%s:%d", m.Transition.ID, m.Transition.CheckType, m.Transition.Reason,
			len(m.Votes)))
	}
	return got
}
