// Package teams posts alert-contact notices to Microsoft Teams incoming
// webhooks (Workflows or connectors) as an Adaptive Card 1.4: a bold
// header line and a FactSet with the site, event, state, reason and time.
//
// It imports only the standard library, uptime and the shared
// deliverer/internal/chathook and alerttext. It must not import the
// deliverer package, another transport, the module's internal/*, nats.go or
// a SQL driver.
package teams
