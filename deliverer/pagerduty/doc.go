// Package pagerduty sends alert-contact notices to PagerDuty's Events API
// v2: a trigger for each notice and a resolve for a recovery, grouped by the
// notice's dedup key so PagerDuty keeps one incident per Jetmon event (and
// drops a retried duplicate).
//
// It imports only the standard library, uptime and the shared
// deliverer/internal/httpsend and alerttext. It must not import the
// deliverer package, another transport, the module's internal/*, nats.go or
// a SQL driver.
package pagerduty
