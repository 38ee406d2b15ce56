package apistore_test

import (
	"database/sql"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/api"
	"github.com/jetmon-mesh/jetmon/uptime"
)

func TestWebhooks(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	hook, err := w.store.CreateWebhook(ctx, uptime.Webhook{URL: "https://hooks.example/a", Active: true,
		Events: []string{uptime.EventOpened}, SiteIDs: []int64{1, 2}, States: []uptime.State{uptime.StateDown},
		CreatedBy: "gw", Secret: "whsec_first"}, "tenant-a")
	if err != nil {
		t.Fatal(err)
	}
	if hook.Secret != "whsec_first" || hook.SecretPreview != "irst" ||
		hook.OwnerTenantID != "tenant-a" || !reflect.DeepEqual(hook.SiteIDs, []int64{1, 2}) {
		t.Fatalf("created %+v", hook)
	}
	unscoped, err := w.store.CreateWebhook(ctx, uptime.Webhook{URL: "https://hooks.example/b", Secret: "whsec_given"}, "")
	if err != nil || unscoped.Secret != "whsec_given" || unscoped.Events != nil || unscoped.OwnerTenantID != "" {
		t.Fatalf("created %+v, %v", unscoped, err)
	}
	got, err := w.store.GetWebhook(ctx, hook.ID, "tenant-a")
	if err != nil || got.Secret != "" || got.PreviousSecret != "" || got.URL != hook.URL {
		t.Fatalf("get %+v, %v: never a secret", got, err)
	}
	for _, tt := range []struct {
		name   string
		tenant api.Tenant
		want   []string
	}{
		{"unscoped sees every webhook", "", []string{"https://hooks.example/a", "https://hooks.example/b"}},
		{"a tenant sees its own", "tenant-a", []string{"https://hooks.example/a"}},
		{"another tenant sees none", "tenant-b", nil},
	} {
		hooks, err := w.store.ListWebhooks(ctx, tt.tenant)
		var urls []string
		for _, h := range hooks {
			if h.Secret != "" {
				t.Fatalf("%s: list returned a secret", tt.name)
			}
			urls = append(urls, h.URL)
		}
		if err != nil || !reflect.DeepEqual(urls, tt.want) {
			t.Errorf("%s: %v, %v", tt.name, urls, err)
		}
	}
	if _, err := w.store.GetWebhook(ctx, hook.ID, "tenant-b"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("another tenant's webhook: %v", err)
	}

	upd, err := w.store.UpdateWebhook(ctx, hook.ID, api.WebhookPatch{Active: ptr(false), Events: &[]string{},
		States: &[]uptime.State{uptime.StateSeemsDown, uptime.StateDown}}, "tenant-a")
	if err != nil || upd.Active || upd.Events != nil || !reflect.DeepEqual(upd.SiteIDs, []int64{1, 2}) ||
		!reflect.DeepEqual(upd.States, []uptime.State{uptime.StateSeemsDown, uptime.StateDown}) {
		t.Fatalf("update %+v, %v", upd, err)
	}
	if _, err := w.store.UpdateWebhook(ctx, hook.ID, api.WebhookPatch{URL: ptr("https://x/")}, "tenant-b"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("update by another tenant: %v", err)
	}

	rot, err := w.store.RotateSecret(ctx, hook.ID, "whsec_second", 10*time.Minute, "tenant-a")
	if err != nil || rot.Secret != "whsec_second" || !rot.PreviousSecretExpiresAt.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("rotate with grace: %+v, %v", rot, err)
	}
	w.wantSecrets(t, hook.ID, "whsec_second", "whsec_first", t0.Add(10*time.Minute))
	rot2, err := w.store.RotateSecret(ctx, hook.ID, "whsec_third", 0, "")
	if err != nil || rot2.Secret != "whsec_third" || !rot2.PreviousSecretExpiresAt.IsZero() || rot2.SecretPreview != "hird" {
		t.Fatalf("rotate without grace: %+v, %v", rot2, err)
	}
	w.wantSecrets(t, hook.ID, "whsec_third", "", time.Time{})
	if _, err := w.store.RotateSecret(ctx, hook.ID, "whsec_fourth", 0, "tenant-b"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("rotate by another tenant: %v", err)
	}
	for _, secret := range []string{"", "whsec_with space", strings.Repeat("s", 81)} {
		if _, err := w.store.RotateSecret(ctx, hook.ID, secret, 0, ""); err == nil || !strings.Contains(err.Error(), "secret: 1 to 80") {
			t.Fatalf("rotate to secret %q: %v", secret, err)
		}
		if _, err := w.store.CreateWebhook(ctx, uptime.Webhook{URL: "https://hooks.example/c", Secret: secret}, ""); err == nil {
			t.Fatalf("create with secret %q succeeded", secret)
		}
	}
	w.wantSecrets(t, hook.ID, "whsec_third", "", time.Time{})

	if err := w.store.DeleteWebhook(ctx, hook.ID, "tenant-b"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("delete by another tenant: %v", err)
	}
	if err := w.store.DeleteWebhook(ctx, hook.ID, "tenant-a"); err != nil {
		t.Fatal(err)
	}
	if err := w.store.DeleteWebhook(ctx, hook.ID, ""); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

// wantSecrets checks the stored secrets of webhook id (root reads them).
func (w *world) wantSecrets(t *testing.T, id int64, secret, previous string, prevExpires time.Time) {
	t.Helper()
	var (
		s    string
		prev sql.NullString
		exp  sql.NullTime
	)
	if err := w.db.QueryRowContext(t.Context(), `SELECT secret, previous_secret, previous_secret_expires_at
		FROM jetmon_webhooks WHERE id = ?`, id).Scan(&s, &prev, &exp); err != nil {
		t.Fatal(err)
	}
	if s != secret || prev.String != previous || !exp.Time.Equal(prevExpires) {
		t.Fatalf("stored secret %q, previous %q until %v; want %q, %q until %v", s, prev.String, exp.Time,
			secret, previous, prevExpires)
	}
}

func TestAlertContacts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	c, err := w.store.CreateAlertContact(ctx, uptime.AlertContact{Label: "ops mail", Active: true,
		Transport: uptime.TransportEmail, Destination: map[string]string{"address": "ops@example.com"},
		SiteIDs: []int64{9}, MinSeverity: uptime.SeverityDown, MaxPerHour: 10, CreatedBy: "gw"}, "tenant-a")
	if err != nil {
		t.Fatal(err)
	}
	if c.Destination != nil || c.DestinationPreview != ".com" || c.OwnerTenantID != "tenant-a" ||
		c.Transport != uptime.TransportEmail || c.MaxPerHour != 10 || !reflect.DeepEqual(c.SiteIDs, []int64{9}) {
		t.Fatalf("created %+v", c)
	}
	for _, bad := range []uptime.AlertContact{
		{Label: "x", Transport: "sms", Destination: map[string]string{"n": "1"}},
		{Label: "", Transport: uptime.TransportSlack, Destination: map[string]string{"webhook_url": "u"}},
		{Label: "x", Transport: uptime.TransportSlack},
	} {
		if _, err := w.store.CreateAlertContact(ctx, bad, ""); err == nil {
			t.Errorf("created invalid contact %+v", bad)
		}
	}
	pd, err := w.store.CreateAlertContact(ctx, uptime.AlertContact{Label: "pager", Transport: uptime.TransportPagerDuty,
		Destination: map[string]string{"integration_key": "abcdef123456"}}, "")
	if err != nil || pd.DestinationPreview != "3456" || pd.SiteIDs != nil {
		t.Fatalf("created %+v, %v", pd, err)
	}
	if list, err := w.store.ListAlertContacts(ctx, "tenant-a"); err != nil || len(list) != 1 || list[0].ID != c.ID {
		t.Fatalf("tenant list %+v, %v", list, err)
	}
	if list, err := w.store.ListAlertContacts(ctx, ""); err != nil || len(list) != 2 || list[1].Destination != nil {
		t.Fatalf("unscoped list %+v, %v", list, err)
	}
	upd, err := w.store.UpdateAlertContact(ctx, c.ID, api.AlertContactPatch{Label: ptr("renamed"),
		Destination: &map[string]string{"address": "noc@example.org"}, SiteIDs: &[]int64{}, MinSeverity: ptr(uptime.SeveritySeemsDown),
		MaxPerHour: ptr(0), Active: ptr(false)}, "tenant-a")
	if err != nil || upd.Label != "renamed" || upd.DestinationPreview != ".org" || upd.SiteIDs != nil ||
		upd.MinSeverity != uptime.SeveritySeemsDown || upd.MaxPerHour != 0 || upd.Active {
		t.Fatalf("update %+v, %v", upd, err)
	}
	var dest string
	if err := w.db.QueryRowContext(ctx, `SELECT destination FROM jetmon_alert_contacts WHERE id = ?`, c.ID).Scan(&dest); err != nil ||
		!strings.Contains(dest, "noc@example.org") {
		t.Fatalf("stored destination %q, %v", dest, err)
	}
	if _, err := w.store.GetAlertContact(ctx, c.ID, "tenant-b"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("another tenant's contact: %v", err)
	}
	if _, err := w.store.UpdateAlertContact(ctx, c.ID, api.AlertContactPatch{Label: ptr("x")}, "tenant-b"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("update by another tenant: %v", err)
	}
	if err := w.store.DeleteAlertContact(ctx, c.ID, "tenant-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.GetAlertContact(ctx, c.ID, ""); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("deleted contact: %v", err)
	}
}

func TestDeliveries(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	var ids []int64
	for i, status := range []string{"delivered", "abandoned", "pending"} {
		ids = append(ids, w.insertID(t, `INSERT INTO jetmon_deliveries (kind, destination_id, transition_id, event_id, blog_id,
			event_type, severity, payload, status, attempt, last_status_code, last_response, last_attempt_at)
			VALUES ('webhook', 5, ?, 1, 1, 'event.opened', 4, '{"v":1}', ?, 2, 503, 'busy', ?)`, 100+i, status, t0))
	}
	w.exec(t, `INSERT INTO jetmon_deliveries (kind, destination_id, transition_id, event_id, blog_id, event_type, payload)
		VALUES ('alert', 5, 100, 1, 1, 'alert.opened', '{}')`)
	w.exec(t, `INSERT INTO jetmon_delivery_attempts (delivery_id, kind, destination_id, attempt, node_id, outcome, status_code,
		response, next_attempt_at, started_at, finished_at) VALUES (?, 'webhook', 5, 1, 'd1', 'retry', 503, 'busy', ?, ?, ?),
		(?, 'webhook', 5, 2, 'd2', 'abandoned', NULL, NULL, NULL, ?, NULL)`, ids[1], t0.Add(time.Minute), t0, t0, ids[1], t0)

	for _, tt := range []struct {
		name string
		q    api.DeliveryQuery
		want []int64
	}{
		{"newest first", api.DeliveryQuery{Kind: uptime.DeliveryWebhook, DestinationID: 5, Limit: 10}, []int64{ids[2], ids[1], ids[0]}},
		{"cursor", api.DeliveryQuery{Kind: uptime.DeliveryWebhook, DestinationID: 5, BeforeID: ids[2], Limit: 1}, []int64{ids[1]}},
		{"status", api.DeliveryQuery{Kind: uptime.DeliveryWebhook, DestinationID: 5, Status: uptime.DeliveryDelivered, Limit: 10}, []int64{ids[0]}},
		{"another destination", api.DeliveryQuery{Kind: uptime.DeliveryWebhook, DestinationID: 6, Limit: 10}, nil},
	} {
		got, err := w.store.ListDeliveries(ctx, tt.q)
		var gotIDs []int64
		for _, d := range got {
			gotIDs = append(gotIDs, d.ID)
		}
		if err != nil || !reflect.DeepEqual(gotIDs, tt.want) {
			t.Errorf("%s: %v, %v; want %v", tt.name, gotIDs, err, tt.want)
		}
	}
	d, err := w.store.GetDelivery(ctx, ids[1])
	if err != nil || d.Kind != uptime.DeliveryWebhook || d.Status != uptime.DeliveryAbandoned || d.Severity == nil ||
		*d.Severity != uptime.SeverityDown || string(d.Payload) != `{"v": 1}` && string(d.Payload) != `{"v":1}` ||
		d.LastStatusCode != 503 || d.LastResponse != "busy" || !d.LastAttemptAt.Equal(t0) || d.Attempt != 2 {
		t.Fatalf("delivery %+v, %v", d, err)
	}
	if _, err := w.store.GetDelivery(ctx, 9999); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("missing delivery: %v", err)
	}
	attempts, err := w.store.ListAttempts(ctx, ids[1])
	if err != nil || len(attempts) != 2 || attempts[0].Outcome != "retry" || attempts[0].StatusCode != 503 ||
		!attempts[0].NextAttemptAt.Equal(t0.Add(time.Minute)) || attempts[1].NodeID != "d2" || !attempts[1].FinishedAt.IsZero() {
		t.Fatalf("attempts %+v, %v", attempts, err)
	}
}

func TestRecordAccess(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	recs := []api.AccessRecord{
		{KeyID: 3, Consumer: "gateway", Method: "GET", Path: "/api/v1/sites?cursor=abc&token=jm_secret",
			Route: "/api/v1/sites", Status: 200, RequestID: "r1", Duration: 12 * time.Millisecond, Remote: "10.0.0.1:5",
			Tenant: "tenant-a"},
		{Method: "POST", Path: "/api/v1/sites", Status: 401, RequestID: "r2", Note: "missing_token"},
	}
	for _, r := range recs {
		if err := w.store.RecordAccess(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := w.db.QueryContext(ctx, `SELECT event_type, source, detail, metadata FROM jetmon_audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	var got []string
	for rows.Next() {
		var typ, source, detail, md string
		if err := rows.Scan(&typ, &source, &detail, &md); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(md), &m); err != nil {
			t.Fatal(err)
		}
		canonical, _ := json.Marshal(m) // sorted keys: MySQL reorders a JSON column, MariaDB keeps the text
		got = append(got, typ+"|"+source+"|"+detail+"|"+string(canonical))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`api_access|gateway|GET /api/v1/sites|{"consumer":"gateway","duration_ms":12,"key_id":3,"method":"GET","path":"/api/v1/sites","remote_addr":"10.0.0.1:5","request_id":"r1","route":"/api/v1/sites","status":200,"tenant_id":"tenant-a"}`,
		`api_access|unknown|POST /api/v1/sites|{"consumer":"unknown","duration_ms":0,"key_id":0,"method":"POST","note":"missing_token","path":"/api/v1/sites","request_id":"r2","status":401}`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("audit rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDestinationUpdates pins what both destination tables' updates share:
// an empty patch returns the row as it is (a tenant's own, or not found);
// a webhook patch is validated before the row is looked up, a contact's
// (which depends on the row's transport) after.
func TestDestinationUpdates(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := t.Context()
	hook, err := w.store.CreateWebhook(ctx, uptime.Webhook{URL: "https://hooks.example/u", Active: true, Secret: "whsec_u"}, "tenant-a")
	if err != nil {
		t.Fatal(err)
	}
	stored := hook
	stored.Secret = "" // only create and rotate return it
	c, err := w.store.CreateAlertContact(ctx, uptime.AlertContact{Label: "pager", Transport: uptime.TransportPagerDuty,
		Destination: map[string]string{"integration_key": "abcdef123456"}}, "tenant-a")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		update   func(api.Tenant) (any, error)
		tenant   api.Tenant
		want     any   // the row returned, when wantErr is nil
		wantErr  error // errors.Is
		wantText string
	}{
		{name: "empty webhook patch", tenant: "tenant-a", want: stored, update: func(t api.Tenant) (any, error) {
			return w.store.UpdateWebhook(ctx, hook.ID, api.WebhookPatch{}, t)
		}},
		{name: "empty webhook patch of another tenant", tenant: "tenant-b", wantErr: api.ErrNotFound,
			update: func(t api.Tenant) (any, error) { return w.store.UpdateWebhook(ctx, hook.ID, api.WebhookPatch{}, t) }},
		{name: "invalid webhook patch of a missing webhook", tenant: "", wantText: "update webhook 999: url: 1 to 2083 bytes",
			update: func(t api.Tenant) (any, error) {
				return w.store.UpdateWebhook(ctx, 999, api.WebhookPatch{URL: ptr("")}, t)
			}},
		{name: "empty contact patch", tenant: "tenant-a", want: c, update: func(t api.Tenant) (any, error) {
			return w.store.UpdateAlertContact(ctx, c.ID, api.AlertContactPatch{}, t)
		}},
		{name: "invalid contact patch of a missing contact", tenant: "", wantErr: api.ErrNotFound,
			update: func(t api.Tenant) (any, error) {
				return w.store.UpdateAlertContact(ctx, 999, api.AlertContactPatch{Label: ptr("")}, t)
			}},
	}
	for _, tt := range tests {
		got, err := tt.update(tt.tenant)
		switch {
		case tt.wantText != "":
			if err == nil || err.Error() != tt.wantText {
				t.Errorf("%s: %v, want %q", tt.name, err, tt.wantText)
			}
		case tt.wantErr != nil:
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("%s: %v, want %v", tt.name, err, tt.wantErr)
			}
		case err != nil || !reflect.DeepEqual(got, tt.want):
			t.Errorf("%s: %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
	}
}
