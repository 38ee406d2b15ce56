// Package webhook delivers signed webhooks: it POSTs a delivery's frozen
// payload, unchanged, to a registered URL with the X-Jetmon-Event,
// X-Jetmon-Delivery and Stripe-style X-Jetmon-Signature headers, and reports
// what the receiver answered. Sign and Verify are the one implementation of
// the signature scheme, for the sender, for receivers and for tests.
//
// It imports only the standard library, uptime and the shared
// deliverer/internal/httpsend. It must not import the deliverer package,
// another transport, the module's internal/*, nats.go or a SQL driver.
package webhook
