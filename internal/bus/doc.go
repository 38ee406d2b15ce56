// Package bus is the NATS contract of Jetmon Mesh and its adapters:
//
//   - names.go: subject, stream, consumer and KV names and key helpers.
//   - wire_*.go: versioned JSON messages ("v":1) and their conversion to and
//     from uptime types (Encode*/Decode*; golden files in testdata/).
//   - assets.go: EnsureAssets, the idempotent create-or-update of every
//     stream, consumer and KV bucket.
//   - leader.go, term.go: the coordinator lease (Elector, Term).
//   - presence.go, nodeset.go: presence keys (Presence) and the live-node
//     directory (Directory, ListNodes).
//   - assignments.go, sites.go: KV adapters for assignments and site specs.
//   - results.go: publishing and consuming check results.
//   - command.go, check.go, reqreply.go: coordinator commands and on-demand
//     checks over request/reply.
//   - verify.go: cross-region confirmation, the coordinator's scatter-gather
//     (Verifier) and the verifliers' side (VerifyServer).
//   - transition.go: publishing committed transitions to JETMON_DELIVERY.
//   - delivery.go: the delivery consumers' and the dead-letter stream's
//     configs, JobPublisher and DeliveryBacklog; wire_job.go: delivery jobs.
//   - workqueue.go: WorkQueue, the supervised pool of workers consuming one
//     work-queue consumer; deadletter.go: DeadLetterMover, which moves
//     messages that ran out of deliveries out of JETMON_DELIVERY.
//   - watch.go: the supervised KV watch every watcher here runs on.
//
// The adapters' methods match the roles' interfaces (coordinator, prober)
// where the types allow; where a role declares its own types (SiteKey,
// SiteEvent, Batch, Term) the wiring converts with a few lines, or, for
// SiteWatcher, picks the event type as a type parameter. Goroutines live
// only inside Run, Consume, Serve* and Watch* calls and end with their ctx.
//
// It imports uptime and nats.go; it must not import a role, internal/sqlstore
// or nats-server. docs/nats.md documents every name here.
package bus
