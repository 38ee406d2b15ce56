// Package natsd runs an embedded nats-server with JetStream inside a Jetmon
// process: the all-in-one `jetmon all` mode, and the test harness in
// internal/testenv.
//
// A Server is built with New (validation only, no I/O) and runs with Run,
// which starts the server, waits until it accepts connections, signals
// readiness (Ready, WaitReady), blocks until its context is done and then
// shuts the server down. The server's own log lines go to the injected
// *slog.Logger; a fatal server error (a port in use, an unusable store
// directory) is logged at ERROR and makes Run return an error wrapping
// ErrFatal instead of exiting the process.
//
// Options can come from a nats-server configuration file (Opts.ConfigFile),
// parsed by server.ProcessConfigFile exactly as the standalone nats-server
// parses it, so the embedded server follows the production configuration
// path (deploy/nats). Without a configuration file the server listens on
// loopback only.
//
// Production clusters run as dedicated nats-server processes (deploy/nats);
// this package is for single-node embedding and tests.
//
// natsd imports nats-server and, for the Connect convenience, nats.go; it
// imports no other Jetmon package. cmd/jetmon-agent must not import it.
package natsd
