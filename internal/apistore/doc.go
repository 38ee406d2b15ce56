// Package apistore is the REST API's MySQL edge: it implements the ports of
// package api that read and write rows (KeyStore, IdempotencyStore, Auditor,
// SiteStore, EventStore, StatsStore, WebhookStore, AlertContactStore,
// DeliveryStore) and the API-key administration behind `jetmon keys`.
//
// # What it writes, and what it never writes
//
// It writes configuration only: the configuration columns of
// jetpack_monitor_sites (with updated_at, so the coordinator's incremental
// site sync sees every change), jetmon_site_tenants, jetmon_webhooks,
// jetmon_alert_contacts, jetmon_api_keys, jetmon_idempotency_keys and
// jetmon_audit_log. It never writes incident state: jetmon_events and
// jetmon_event_transitions are read only, and so are the columns of
// jetpack_monitor_sites the coordinator owns (site_status and
// last_status_change — the legacy projection —, last_checked_at,
// ssl_expiry_date, last_alert_sent_at). Not even a pause sets
// last_status_change: it says when site_status last changed, and only the
// coordinator changes that (a pause closes the site's events through the
// coordinator, whose transaction moves the projection). docs/mysql-grants.md
// lists the grants that make this a database rule too; the package's tests
// run every write with them.
//
// # Rows and blogs
//
// A legacy jetpack_monitor_sites may hold several rows for one blog. As in
// internal/sqlstore, a blog's effective row is its newest active row, else
// its newest row: reads return that row, configuration writes change it,
// and deactivating a blog deactivates all its rows.
//
// # Secrets
//
// Webhook secrets and alert-contact destinations are never read back except
// the secret returned by CreateWebhook and RotateSecret; audit rows never
// carry a token, secret or destination; API tokens are stored as their
// SHA-256 only.
//
// It imports api (for the ports' types and sentinel errors), uptime,
// internal/sqlstore (transactions), the MySQL driver (for its error
// numbers) and the standard library; never another role, NATS or chi.
package apistore
