// Package coordinator is the mesh's control role: it holds the leader lease,
// assigns bucket ranges to probers, mirrors sites into NATS, ingests results,
// asks verifliers to confirm outages, answers operators' commands (event.close,
// site.trigger, site.pause, site.delete, site.sync), is the only writer of
// incident state and relays committed transitions from the outbox to
// JETMON_DELIVERY.
//
// It declares the small interfaces it consumes (stores, publishers,
// verifiers); adapters in internal/ satisfy them and internal/jetmoncmd (for
// cmd/jetmon) wires them. It must not import another role, internal/*,
// nats.go, the MySQL driver or chi.
package coordinator
