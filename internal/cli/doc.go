// Package cli holds what both binaries' command trees share: the process
// environment a command sees, the root command, the runtime every role starts
// with (config, logger, metrics registry, ops server, startup lines), the
// errgroup that runs a process's parts with a bounded drain, and the commands
// the regional jetmon-agent carries (prober, veriflier, version).
//
// It must not import the MySQL driver, nats-server or chi: jetmon-agent links
// it. Commands that need them live in internal/jetmoncmd.
package cli
