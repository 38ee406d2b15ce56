// Package coordinator is the mesh's control role: it holds the leader lease,
// assigns bucket ranges to probers, mirrors sites into NATS, ingests results,
// asks verifliers to confirm outages and is the only writer of incident state.
//
// It declares the small interfaces it consumes (stores, publishers,
// verifiers); adapters in internal/ satisfy them and cmd/ wires them. It must
// not import another role, internal/*, nats.go, the MySQL driver or chi.
package coordinator
