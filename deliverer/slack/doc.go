// Package slack posts alert-contact notices to Slack incoming webhooks: a
// fallback text and Block Kit sections (a header line with an emoji, then
// the site, event, state, reason and time as fields).
//
// It imports only the standard library, uptime and the shared
// deliverer/internal/chathook and alerttext. It must not import the
// deliverer package, another transport, the module's internal/*, nats.go or
// a SQL driver.
package slack
