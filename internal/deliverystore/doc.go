// Package deliverystore is the deliverers' MySQL store: it reads the
// destinations a transition fans out to (jetmon_webhooks with their
// secrets, jetmon_alert_contacts with their destinations,
// jetmon_site_tenants), writes fan-outs (jetmon_deliveries rows and
// jetmon_audit_log suppressions), claims deliveries before a send with a
// conditional update whose RowsAffected must be 1, enforces alert
// contacts' max_per_hour across every deliverer, records attempts
// (jetmon_delivery_attempts) and dead letters (jetmon_dead_letters), and
// resets deliveries for a manual retry.
//
// Every write that spans rows is one transaction (sqlstore.WithTx). Times
// are the caller's clock, written as UTC DATETIME(3). It must not import
// any role package (coordinator, prober, veriflier, deliverer, api), NATS
// or chi; internal/jetmoncmd adapts its types to the deliverer's ports.
package deliverystore
