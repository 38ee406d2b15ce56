package apistore

import "strings"

// APIGrants returns the GRANT statements that give account (e.g.
// 'jetmon_api'@'%') exactly what an API process needs on database (a plain
// identifier): it reads every table, writes configuration, keys' last use,
// idempotency records and audit rows, resets deliveries for a manual retry,
// and has no write privilege on the
// event tables or on the jetpack_monitor_sites columns the coordinator owns
// (site_status, last_status_change, last_checked_at, ssl_expiry_date,
// last_alert_sent_at). docs/mysql-grants.md prints them; the tests run the
// store and the API with an account that has only these.
func APIGrants(database, account string) []string {
	db := "`" + database + "`"
	config := strings.Join(siteConfigColumns(), ", ")
	return []string{
		"GRANT SELECT ON " + db + ".* TO " + account,
		"GRANT INSERT (blog_id, " + config + "), UPDATE (" + config + ", updated_at) ON " + db +
			".jetpack_monitor_sites TO " + account,
		"GRANT INSERT, UPDATE (updated_at) ON " + db + ".jetmon_site_tenants TO " + account,
		"GRANT INSERT, UPDATE, DELETE ON " + db + ".jetmon_webhooks TO " + account,
		"GRANT INSERT, UPDATE, DELETE ON " + db + ".jetmon_alert_contacts TO " + account,
		"GRANT INSERT, UPDATE, DELETE ON " + db + ".jetmon_idempotency_keys TO " + account,
		"GRANT UPDATE (last_used_at) ON " + db + ".jetmon_api_keys TO " + account,
		"GRANT INSERT ON " + db + ".jetmon_audit_log TO " + account,
		// The deliverer's manual retry (deliverer.Ops) runs in the API
		// process: it resets the delivery row and publishes a new job.
		"GRANT UPDATE ON " + db + ".jetmon_deliveries TO " + account,
	}
}

// KeysGrants returns the GRANT statements of the operator account that runs
// `jetmon keys` (create, list, revoke, rotate).
func KeysGrants(database, account string) []string {
	return []string{"GRANT SELECT, INSERT, UPDATE ON `" + database + "`.jetmon_api_keys TO " + account}
}

// siteConfigColumns are the jetpack_monitor_sites columns the API writes
// besides blog_id (on insert) and updated_at (on update).
func siteConfigColumns() []string {
	return []string{"bucket_no", "monitor_url", "monitor_active", "check_interval", "check_keyword",
		"forbidden_keywords", "custom_headers", "timeout_seconds", "redirect_policy", "maintenance_start",
		"maintenance_end", "alert_cooldown_minutes"}
}
