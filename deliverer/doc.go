// Package deliverer sends notifications: it fans each incident transition out
// to its destinations (webhooks, alert contacts, legacy WPCOM) and dispatches
// the resulting jobs with durable retries, recording every attempt.
//
// The role consumes the ports of ports.go: four JetStream work queues
// (fanout, webhook, alert, wpcom), a job publisher, the queues' backlog, a
// dead-letter source and the MySQL store, with the bus codecs handed in
// through Opts so that malformed input is the role's to record. MySQL's
// delivery rows are the truth; a job carries ids only. A delivery is sent
// only after a claim that exactly one deliverer wins, is retried on
// RETRY_SCHEDULE by delayed redelivery, and is never sent again once
// recorded delivered. Ops (manual retry, send-test) serves the API without
// the role running. The pure parts (matching, the frozen payload, notices
// and WPCOM status changes rebuilt from it, the retry verdicts) have no I/O.
//
// Transports live in subpackages and satisfy this package's interfaces
// (transports.go) implicitly. It must not import another role, its
// transports, internal/*, nats.go or the MySQL driver.
package deliverer
