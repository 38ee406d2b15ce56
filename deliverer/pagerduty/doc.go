// Package pagerduty sends alert-contact notices to PagerDuty's Events API
// v2: a trigger for each notice and a resolve for a recovery, grouped by the
// notice's dedup key so PagerDuty keeps one incident per Jetmon event (and
// drops a retried duplicate).
//
// It imports only the standard library and uptime. It must not import the
// deliverer package, another transport, internal/*, nats.go or a SQL driver.
package pagerduty
