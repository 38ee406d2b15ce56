// Package jetmoncmd is the command tree of the full `jetmon` binary: every
// role, `all` (every role plus an embedded NATS server in one process),
// `migrate`, `validate-config`, `check`, `testsite` and `version`.
//
// It is wiring: it builds adapters from internal/ and hands them to the roles
// through the interfaces the roles declare. Commands the regional agent also
// carries come from internal/cli.
package jetmoncmd
