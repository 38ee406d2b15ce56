// Package teams posts alert-contact notices to Microsoft Teams incoming
// webhooks (Workflows or connectors) as an Adaptive Card 1.4: a bold
// header line and a FactSet with the site, event, state, reason and time.
//
// It imports only the standard library and uptime. It must not import the
// deliverer package, another transport, internal/*, nats.go or a SQL driver.
package teams
