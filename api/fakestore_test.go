package api

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// fakeDB is an in-memory implementation of the API's store ports, with
// per-method failure injection.
type fakeDB struct {
	mu          sync.Mutex
	now         func() time.Time
	fails       map[string]error
	keys        map[string]uptime.APIKey // by hash
	touched     map[int64]int
	idem        map[string]IdempotencyRecord
	storeLeft   time.Duration // the time left to the last Complete's context
	audit       []AccessRecord
	sites       map[int64]uptime.SiteConfig
	tenants     map[Tenant]map[int64]bool
	events      map[int64]uptime.Event
	transitions []uptime.Transition
	rollups     []uptime.HourlyRollup
	webhooks    map[int64]uptime.Webhook
	contacts    map[int64]uptime.AlertContact
	deliveries  map[int64]uptime.Delivery
	attempts    map[int64][]uptime.DeliveryAttempt
	nextID      int64
}

func newFakeDB(now func() time.Time) *fakeDB {
	return &fakeDB{now: now, fails: map[string]error{}, keys: map[string]uptime.APIKey{}, touched: map[int64]int{},
		idem: map[string]IdempotencyRecord{}, sites: map[int64]uptime.SiteConfig{}, tenants: map[Tenant]map[int64]bool{},
		events: map[int64]uptime.Event{}, webhooks: map[int64]uptime.Webhook{}, contacts: map[int64]uptime.AlertContact{},
		deliveries: map[int64]uptime.Delivery{}, attempts: map[int64][]uptime.DeliveryAttempt{}, nextID: 1000}
}

// failOn makes method return err (nil clears).
func (f *fakeDB) failOn(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails[method] = err
}

// enter locks (the caller defers the unlock) and returns the injected
// failure of method; errPanic panics.
func (f *fakeDB) enter(method string) error {
	f.mu.Lock()
	if errors.Is(f.fails[method], errPanic) {
		panic("injected panic in " + method)
	}
	return f.fails[method]
}

func (f *fakeDB) id() int64 { f.nextID++; return f.nextID }

func (f *fakeDB) KeyByHash(_ context.Context, hash string) (uptime.APIKey, error) {
	defer f.mu.Unlock()
	if err := f.enter("KeyByHash"); err != nil {
		return uptime.APIKey{}, err
	}
	k, ok := f.keys[hash]
	if !ok {
		return uptime.APIKey{}, ErrNotFound
	}
	return k, nil
}

func (f *fakeDB) TouchKey(_ context.Context, id int64, _ time.Time) error {
	defer f.mu.Unlock()
	if err := f.enter("TouchKey"); err != nil {
		return err
	}
	f.touched[id]++
	return nil
}

func idemScope(r IdempotencyRecord) string {
	return strings.Join([]string{strconv.FormatInt(r.KeyID, 10), r.Method, r.Path, r.Key}, "\x00")
}

func (f *fakeDB) Claim(_ context.Context, rec IdempotencyRecord) (IdempotencyRecord, bool, error) {
	defer f.mu.Unlock()
	if err := f.enter("Claim"); err != nil {
		return IdempotencyRecord{}, false, err
	}
	if old, ok := f.idem[idemScope(rec)]; ok && f.now().Before(old.ExpiresAt) {
		return old, false, nil
	}
	rec.Status = 0
	f.idem[idemScope(rec)] = rec
	return IdempotencyRecord{}, true, nil
}

func (f *fakeDB) Complete(ctx context.Context, rec IdempotencyRecord) error {
	defer f.mu.Unlock()
	if err := f.enter("Complete"); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		f.storeLeft = time.Until(dl)
	}
	f.idem[idemScope(rec)] = rec
	return nil
}

func (f *fakeDB) Release(_ context.Context, rec IdempotencyRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.idem, idemScope(rec))
	return nil
}

func (f *fakeDB) RecordAccess(_ context.Context, rec AccessRecord) error {
	defer f.mu.Unlock()
	if err := f.enter("RecordAccess"); err != nil {
		return err
	}
	f.audit = append(f.audit, rec)
	return nil
}

func (f *fakeDB) visible(blogID int64, t Tenant) bool {
	_, ok := f.sites[blogID]
	return ok && (t == "" || f.tenants[t][blogID])
}

func (f *fakeDB) ListSites(_ context.Context, q SiteQuery) ([]uptime.SiteConfig, error) {
	defer f.mu.Unlock()
	if err := f.enter("ListSites"); err != nil {
		return nil, err
	}
	var out []uptime.SiteConfig
	for _, id := range slices.Sorted(maps.Keys(f.sites)) {
		s := f.sites[id]
		switch {
		case id <= q.AfterBlogID, !f.visible(id, q.Tenant), q.Active != nil && s.Active != *q.Active,
			!strings.Contains(s.URL, q.URLContains):
			continue
		}
		if out = append(out, s); len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

func (f *fakeDB) GetSite(_ context.Context, blogID int64, t Tenant) (uptime.SiteConfig, error) {
	defer f.mu.Unlock()
	if err := f.enter("GetSite"); err != nil {
		return uptime.SiteConfig{}, err
	}
	if !f.visible(blogID, t) {
		return uptime.SiteConfig{}, ErrNotFound
	}
	return f.sites[blogID], nil
}

func (f *fakeDB) CreateSite(_ context.Context, s uptime.SiteConfig, t Tenant) (uptime.SiteConfig, error) {
	defer f.mu.Unlock()
	if err := f.enter("CreateSite"); err != nil {
		return uptime.SiteConfig{}, err
	}
	if _, ok := f.sites[s.BlogID]; ok {
		return uptime.SiteConfig{}, ErrConflict
	}
	s.LegacyStatus, s.CreatedAt, s.UpdatedAt = uptime.LegacySiteRunning, f.now(), f.now()
	f.sites[s.BlogID] = s
	if t != "" {
		if f.tenants[t] == nil {
			f.tenants[t] = map[int64]bool{}
		}
		f.tenants[t][s.BlogID] = true
	}
	return s, nil
}

func (f *fakeDB) UpdateSite(_ context.Context, blogID int64, p SitePatch, t Tenant) (uptime.SiteConfig, error) {
	defer f.mu.Unlock()
	if err := f.enter("UpdateSite"); err != nil {
		return uptime.SiteConfig{}, err
	}
	if !f.visible(blogID, t) {
		return uptime.SiteConfig{}, ErrNotFound
	}
	s := f.sites[blogID]
	set(&s.URL, p.URL)
	set(&s.Active, p.Active)
	set(&s.Bucket, p.Bucket)
	set(&s.CheckIntervalMin, p.CheckIntervalMin)
	set(&s.Keyword, p.Keyword)
	set(&s.ForbiddenKeywords, p.ForbiddenKeywords)
	set(&s.Headers, p.Headers)
	set(&s.TimeoutSec, p.TimeoutSec)
	set(&s.RedirectPolicy, p.RedirectPolicy)
	set(&s.MaintenanceStart, p.MaintenanceStart)
	set(&s.MaintenanceEnd, p.MaintenanceEnd)
	if p.AlertCooldownMin != nil {
		s.AlertCooldownMin = ptr(*p.AlertCooldownMin)
	}
	if p.ClearAlertCooldown {
		s.AlertCooldownMin = nil
	}
	s.UpdatedAt = f.now()
	f.sites[blogID] = s
	return s, nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (f *fakeDB) OpenEvents(_ context.Context, blogIDs []int64) ([]uptime.Event, error) {
	defer f.mu.Unlock()
	if err := f.enter("OpenEvents"); err != nil {
		return nil, err
	}
	var out []uptime.Event
	for _, ev := range f.events {
		if ev.Open() && slices.Contains(blogIDs, ev.BlogID) {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (f *fakeDB) ListEvents(_ context.Context, q EventQuery) ([]uptime.Event, error) {
	defer f.mu.Unlock()
	if err := f.enter("ListEvents"); err != nil {
		return nil, err
	}
	var out []uptime.Event
	for _, ev := range f.events {
		switch {
		case ev.BlogID != q.BlogID, q.BeforeID > 0 && ev.ID >= q.BeforeID,
			len(q.States) > 0 && !slices.Contains(q.States, ev.State),
			len(q.CheckTypes) > 0 && !slices.Contains(q.CheckTypes, ev.CheckType),
			!q.StartedAtGTE.IsZero() && ev.StartedAt.Before(q.StartedAtGTE),
			!q.StartedAtLT.IsZero() && !ev.StartedAt.Before(q.StartedAtLT),
			q.Active != nil && ev.Open() != *q.Active:
			continue
		}
		out = append(out, ev)
	}
	slices.SortFunc(out, func(a, b uptime.Event) int { return cmp.Compare(b.ID, a.ID) })
	return out[:min(len(out), q.Limit)], nil
}

func (f *fakeDB) TransitionCounts(_ context.Context, ids []int64) (map[int64]int, error) {
	defer f.mu.Unlock()
	if err := f.enter("TransitionCounts"); err != nil {
		return nil, err
	}
	out := map[int64]int{}
	for _, t := range f.transitions {
		if slices.Contains(ids, t.EventID) {
			out[t.EventID]++
		}
	}
	return out, nil
}

func (f *fakeDB) GetEvent(_ context.Context, id int64) (uptime.Event, error) {
	defer f.mu.Unlock()
	if err := f.enter("GetEvent"); err != nil {
		return uptime.Event{}, err
	}
	ev, ok := f.events[id]
	if !ok {
		return uptime.Event{}, ErrNotFound
	}
	return ev, nil
}

func (f *fakeDB) ListTransitions(_ context.Context, eventID, afterID int64, limit int) ([]uptime.Transition, error) {
	defer f.mu.Unlock()
	if err := f.enter("ListTransitions"); err != nil {
		return nil, err
	}
	var out []uptime.Transition
	for _, t := range f.transitions {
		if t.EventID == eventID && t.ID > afterID && (limit <= 0 || len(out) < limit) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (f *fakeDB) EventsOverlapping(_ context.Context, blogID int64, from, to time.Time) ([]uptime.Event, error) {
	defer f.mu.Unlock()
	if err := f.enter("EventsOverlapping"); err != nil {
		return nil, err
	}
	var out []uptime.Event
	for _, ev := range f.events {
		if ev.BlogID == blogID && ev.StartedAt.Before(to) && (ev.Open() || ev.EndedAt.After(from)) {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (f *fakeDB) Rollups(_ context.Context, blogID int64, from, to time.Time) ([]uptime.HourlyRollup, error) {
	defer f.mu.Unlock()
	if err := f.enter("Rollups"); err != nil {
		return nil, err
	}
	var out []uptime.HourlyRollup
	for _, h := range f.rollups {
		if h.BlogID == blogID && !h.Hour.Before(from) && h.Hour.Before(to) {
			out = append(out, h)
		}
	}
	return out, nil
}
