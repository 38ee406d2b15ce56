package api

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// owned is m[id] when it exists and tenant t may see it (an unscoped
// caller sees every row); owner is the row's owner_tenant_id.
func owned[T any](m map[int64]T, id int64, t Tenant, owner func(T) string) (T, error) {
	v, ok := m[id]
	if !ok || (t != "" && owner(v) != string(t)) {
		var zero T
		return zero, ErrNotFound
	}
	return v, nil
}

// ownedRows are the rows of m tenant t may see, as out returns them.
func ownedRows[T any](m map[int64]T, t Tenant, owner func(T) string, out func(T) T) []T {
	var rows []T
	for _, v := range m {
		if t == "" || owner(v) == string(t) {
			rows = append(rows, out(v))
		}
	}
	return rows
}

func webhookOwner(w uptime.Webhook) string      { return w.OwnerTenantID }
func contactOwner(c uptime.AlertContact) string { return c.OwnerTenantID }

// noSecrets is a webhook as the store returns it outside create and rotate.
func noSecrets(w uptime.Webhook) uptime.Webhook { w.Secret, w.PreviousSecret = "", ""; return w }

// noDestination is a contact as the store returns it.
func noDestination(c uptime.AlertContact) uptime.AlertContact { c.Destination = nil; return c }

func (f *fakeDB) ListWebhooks(_ context.Context, t Tenant) ([]uptime.Webhook, error) {
	defer f.mu.Unlock()
	if err := f.enter("ListWebhooks"); err != nil {
		return nil, err
	}
	return ownedRows(f.webhooks, t, webhookOwner, noSecrets), nil
}

func (f *fakeDB) GetWebhook(_ context.Context, id int64, t Tenant) (uptime.Webhook, error) {
	defer f.mu.Unlock()
	if err := f.enter("GetWebhook"); err != nil {
		return uptime.Webhook{}, err
	}
	w, err := owned(f.webhooks, id, t, webhookOwner)
	return noSecrets(w), err
}

func (f *fakeDB) CreateWebhook(_ context.Context, w uptime.Webhook, _ Tenant) (uptime.Webhook, error) {
	defer f.mu.Unlock()
	if err := f.enter("CreateWebhook"); err != nil {
		return uptime.Webhook{}, err
	}
	w.ID, w.CreatedAt, w.UpdatedAt = f.id(), f.now(), f.now()
	f.webhooks[w.ID] = w
	return w, nil
}

func (f *fakeDB) UpdateWebhook(_ context.Context, id int64, p WebhookPatch, t Tenant) (uptime.Webhook, error) {
	defer f.mu.Unlock()
	if err := f.enter("UpdateWebhook"); err != nil {
		return uptime.Webhook{}, err
	}
	w, err := owned(f.webhooks, id, t, webhookOwner)
	if err != nil {
		return uptime.Webhook{}, err
	}
	set(&w.URL, p.URL)
	set(&w.Active, p.Active)
	set(&w.Events, p.Events)
	set(&w.SiteIDs, p.SiteIDs)
	set(&w.States, p.States)
	w.UpdatedAt = f.now()
	f.webhooks[id] = w
	return noSecrets(w), nil
}

func (f *fakeDB) DeleteWebhook(_ context.Context, id int64, t Tenant) error {
	defer f.mu.Unlock()
	if err := f.enter("DeleteWebhook"); err != nil {
		return err
	}
	if _, err := owned(f.webhooks, id, t, webhookOwner); err != nil {
		return err
	}
	delete(f.webhooks, id)
	return nil
}

func (f *fakeDB) RotateSecret(_ context.Context, id int64, secret string, grace time.Duration, t Tenant) (uptime.Webhook, error) {
	defer f.mu.Unlock()
	if err := f.enter("RotateSecret"); err != nil {
		return uptime.Webhook{}, err
	}
	w, err := owned(f.webhooks, id, t, webhookOwner)
	if err != nil {
		return uptime.Webhook{}, err
	}
	w.PreviousSecret, w.PreviousSecretExpiresAt = w.Secret, f.now().Add(grace)
	w.Secret, w.SecretPreview, w.UpdatedAt = secret, secret[len(secret)-4:], f.now()
	f.webhooks[id] = w
	return w, nil
}

func (f *fakeDB) ListAlertContacts(_ context.Context, t Tenant) ([]uptime.AlertContact, error) {
	defer f.mu.Unlock()
	if err := f.enter("ListAlertContacts"); err != nil {
		return nil, err
	}
	return ownedRows(f.contacts, t, contactOwner, noDestination), nil
}

func (f *fakeDB) GetAlertContact(_ context.Context, id int64, t Tenant) (uptime.AlertContact, error) {
	defer f.mu.Unlock()
	if err := f.enter("GetAlertContact"); err != nil {
		return uptime.AlertContact{}, err
	}
	c, err := owned(f.contacts, id, t, contactOwner)
	return noDestination(c), err
}

func preview(d map[string]string) string {
	for _, v := range d {
		return v[max(0, len(v)-4):]
	}
	return ""
}

func (f *fakeDB) CreateAlertContact(_ context.Context, c uptime.AlertContact, _ Tenant) (uptime.AlertContact, error) {
	defer f.mu.Unlock()
	if err := f.enter("CreateAlertContact"); err != nil {
		return uptime.AlertContact{}, err
	}
	c.ID, c.CreatedAt, c.UpdatedAt, c.DestinationPreview = f.id(), f.now(), f.now(), preview(c.Destination)
	f.contacts[c.ID] = c
	return noDestination(c), nil
}

func (f *fakeDB) UpdateAlertContact(_ context.Context, id int64, p AlertContactPatch, t Tenant) (uptime.AlertContact, error) {
	defer f.mu.Unlock()
	if err := f.enter("UpdateAlertContact"); err != nil {
		return uptime.AlertContact{}, err
	}
	c, err := owned(f.contacts, id, t, contactOwner)
	if err != nil {
		return uptime.AlertContact{}, err
	}
	set(&c.Label, p.Label)
	set(&c.Active, p.Active)
	set(&c.Destination, p.Destination)
	set(&c.SiteIDs, p.SiteIDs)
	set(&c.MinSeverity, p.MinSeverity)
	set(&c.MaxPerHour, p.MaxPerHour)
	c.DestinationPreview, c.UpdatedAt = preview(c.Destination), f.now()
	f.contacts[id] = c
	return noDestination(c), nil
}

func (f *fakeDB) DeleteAlertContact(_ context.Context, id int64, t Tenant) error {
	defer f.mu.Unlock()
	if err := f.enter("DeleteAlertContact"); err != nil {
		return err
	}
	if _, err := owned(f.contacts, id, t, contactOwner); err != nil {
		return err
	}
	delete(f.contacts, id)
	return nil
}

func (f *fakeDB) ListDeliveries(_ context.Context, q DeliveryQuery) ([]uptime.Delivery, error) {
	defer f.mu.Unlock()
	if err := f.enter("ListDeliveries"); err != nil {
		return nil, err
	}
	var out []uptime.Delivery
	for _, id := range slices.Backward(slices.Sorted(maps.Keys(f.deliveries))) {
		d := f.deliveries[id]
		if d.Kind == q.Kind && d.DestinationID == q.DestinationID && (q.BeforeID == 0 || id < q.BeforeID) &&
			(q.Status == "" || d.Status == q.Status) && len(out) < q.Limit {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *fakeDB) GetDelivery(_ context.Context, id int64) (uptime.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.deliveries[id]
	if !ok {
		return uptime.Delivery{}, ErrNotFound
	}
	return d, nil
}

func (f *fakeDB) ListAttempts(_ context.Context, id int64) ([]uptime.DeliveryAttempt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.attempts[id]), nil
}

// fakeOps is the deliverer's entry points.
type fakeOps struct {
	db       *fakeDB
	mu       sync.Mutex
	sendErr  error
	send     uptime.SendResult
	retryErr error
}

func (o *fakeOps) Retry(_ context.Context, id int64) (uptime.Delivery, error) {
	o.mu.Lock()
	err := o.retryErr
	o.mu.Unlock()
	if err != nil {
		return uptime.Delivery{}, err
	}
	o.db.mu.Lock()
	defer o.db.mu.Unlock()
	d, ok := o.db.deliveries[id]
	switch {
	case !ok:
		return uptime.Delivery{}, ErrNotFound
	case d.Status != uptime.DeliveryFailed && d.Status != uptime.DeliveryAbandoned:
		return uptime.Delivery{}, fmt.Errorf("delivery %d is %s: %w", id, d.Status, ErrNotRetryable)
	}
	d.Status, d.Attempt, d.NextAttemptAt = uptime.DeliveryPending, 0, o.db.now()
	o.db.deliveries[id] = d
	return d, nil
}

func (o *fakeOps) SendTest(context.Context, int64) (uptime.SendResult, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.send, o.sendErr
}

// fakeCoord is the coordinator: it applies its commands to the fake
// database, or answers unavailable.
type fakeCoord struct {
	db          *fakeDB
	mu          sync.Mutex
	unavailable bool
	err         error         // another failure
	block       chan struct{} // when set, PauseSite waits for it to close
	entered     chan struct{} // closed when a blocked PauseSite has entered
	calls       []string
	trigger     uptime.Result
	syncs       int
}

var errNoLeader = fmt.Errorf("no responders: %w", ErrCoordinatorUnavailable)

func (c *fakeCoord) begin(verb string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, verb)
	switch {
	case c.unavailable:
		return errNoLeader
	case c.err != nil:
		return c.err
	}
	return nil
}

// closeOpen closes blogID's open events (eventID 0: all) as the coordinator
// would, with one transition each and the legacy projection.
func (c *fakeCoord) closeOpen(blogID, eventID int64, reason uptime.Reason) int {
	db := c.db
	db.mu.Lock()
	defer db.mu.Unlock()
	closed := 0
	for id, ev := range db.events {
		if ev.BlogID != blogID || !ev.Open() || (eventID != 0 && id != eventID) {
			continue
		}
		ev.EndedAt, ev.ResolutionReason = db.now(), reason
		db.events[id] = ev
		sev := ev.Severity
		db.transitions = append(db.transitions, uptime.Transition{ID: db.id(), EventID: id, BlogID: blogID,
			SeverityBefore: &sev, StateBefore: ev.State, StateAfter: uptime.StateResolved, Reason: reason,
			Source: "operator", ChangedAt: db.now()})
		closed++
	}
	if s, ok := db.sites[blogID]; ok && closed > 0 {
		s.LegacyStatus = uptime.LegacySiteRunning
		db.sites[blogID] = s
	}
	return closed
}

func (c *fakeCoord) CloseEvents(_ context.Context, r CloseRequest) (int, error) {
	if err := c.begin("close"); err != nil {
		return 0, err
	}
	return c.closeOpen(r.BlogID, r.EventID, r.Reason), nil
}

func (c *fakeCoord) TriggerSite(ctx context.Context, blogID int64) (TriggerResult, error) {
	if err := c.begin("trigger"); err != nil {
		return TriggerResult{}, err
	}
	c.mu.Lock()
	res := c.trigger
	c.mu.Unlock()
	res.BlogID = blogID
	if site, err := c.db.GetSite(ctx, blogID, ""); err == nil {
		res.URL, res.FinalURL = site.URL, site.URL
	}
	out := TriggerResult{NodeID: "prober-1", Region: "eu", Result: res}
	if !res.IsFailure() {
		out.Closed = c.closeOpen(blogID, 0, uptime.ReasonProbeCleared)
	}
	return out, nil
}

func (c *fakeCoord) PauseSite(_ context.Context, blogID int64, _ string) (int, error) {
	if err := c.begin("pause"); err != nil {
		return 0, err
	}
	c.mu.Lock()
	block, entered := c.block, c.entered
	c.mu.Unlock()
	if block != nil {
		close(entered)
		<-block
	}
	return c.closeOpen(blogID, 0, uptime.ReasonManualOverride), nil
}

func (c *fakeCoord) DeleteSite(_ context.Context, blogID int64, _ string) (int, error) {
	if err := c.begin("delete"); err != nil {
		return 0, err
	}
	return c.closeOpen(blogID, 0, uptime.ReasonManualOverride), nil
}

func (c *fakeCoord) SyncSites(context.Context) error {
	if err := c.begin("sync"); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.syncs++
	return nil
}

// fakeMesh answers a fixed view.
type fakeMesh struct {
	view MeshView
	err  error
}

func (m *fakeMesh) MeshView(context.Context) (MeshView, error) { return m.view, m.err }

// pinger fails with err.
type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

var errBoom = errors.New("boom: driver text that must not leak")
