package natsd

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// DefaultHost is the client listen address when neither Opts.Host nor the
// configuration file sets one. nats-server's own default is 0.0.0.0.
const DefaultHost = "127.0.0.1"

// Defaults for the timeouts in Opts.
const (
	DefaultReadyTimeout    = 10 * time.Second
	DefaultShutdownTimeout = 10 * time.Second
)

// Opts configures an embedded server. The zero value of every field except
// StoreDir is usable; StoreDir may instead come from ConfigFile.
type Opts struct {
	// StoreDir is the JetStream storage directory. It overrides store_dir of
	// ConfigFile; one of the two is required.
	StoreDir string

	// Host is the client listen address (default DefaultHost, or the
	// configuration file's listen host).
	Host string

	// Port is the client listen port. 0 means the configuration file's port
	// when ConfigFile is set, else a random free port; -1 is always a random
	// port. nats-server's own default, 4222, is never implied.
	Port int

	// NoListen runs the server without a client listener; clients connect
	// in-process only (InProcessConn, Connect). Port must then be 0.
	NoListen bool

	// ServerName is the server name (and JetStream raft identity). It
	// overrides server_name of ConfigFile; empty lets nats-server pick one.
	ServerName string

	// ConfigFile is an optional nats-server configuration file. It is
	// parsed with server.ProcessConfigFile on each Run, exactly as the
	// standalone server parses it, and the fields above override it.
	// JetStream is always enabled and signal handling always disabled.
	ConfigFile string

	// MaxMemory and MaxStore cap JetStream memory and file storage in bytes.
	// 0 keeps the configuration file's value or nats-server's default
	// (a share of the machine's memory and disk).
	MaxMemory int64
	MaxStore  int64

	// ReadyTimeout bounds how long Run waits for the server to accept
	// connections (default DefaultReadyTimeout).
	ReadyTimeout time.Duration

	// ShutdownTimeout bounds how long Run waits for the server to stop
	// after its context is done (default DefaultShutdownTimeout).
	ShutdownTimeout time.Duration

	// Logger receives the server's log lines: notices at INFO, warnings at
	// WARN, errors and fatal errors at ERROR, debug at DEBUG and protocol
	// traces at LevelTrace. Default: discard.
	Logger *slog.Logger

	// Configure, if set, edits the nats-server options after they are built
	// from ConfigFile and the fields above, just before the server is
	// created. It is meant for tests and rarely used settings (cluster
	// ports, routes, monitoring); it must not do I/O or start anything.
	Configure func(*server.Options)
}

// validate checks Opts without I/O and fills in defaults.
func (o Opts) validate() (Opts, error) {
	if o.StoreDir == "" && o.ConfigFile == "" {
		return o, errors.New("store dir required (or a config file with store_dir)")
	}
	if o.Port < -1 || o.Port > 65535 {
		return o, fmt.Errorf("port %d out of range -1..65535", o.Port)
	}
	if o.NoListen && o.Port != 0 {
		return o, fmt.Errorf("port %d set together with NoListen", o.Port)
	}
	if o.MaxMemory < 0 || o.MaxStore < 0 {
		return o, errors.New("max memory and max store must not be negative")
	}
	if o.ReadyTimeout < 0 || o.ShutdownTimeout < 0 {
		return o, errors.New("ready and shutdown timeouts must not be negative")
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = DefaultReadyTimeout
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// serverOptions builds fresh nats-server options for one start: the
// configuration file first, then the fields of o, then o.Configure. Fresh
// options per start matter: server.NewServer mutates the options it gets.
func (o Opts) serverOptions() (*server.Options, error) {
	so := &server.Options{}
	if o.ConfigFile != "" {
		parsed, err := server.ProcessConfigFile(o.ConfigFile)
		if err != nil {
			return nil, fmt.Errorf("parse config file: %w", err)
		}
		so = parsed
	}
	o.apply(so)
	if o.Configure != nil {
		o.Configure(so)
	}
	if so.StoreDir == "" {
		return nil, errors.New("no store dir: set Opts.StoreDir or jetstream.store_dir")
	}
	if so.DontListen && so.Cluster.Port != 0 {
		// nats-server starts routing only after the client listener, so the
		// node would never become ready.
		return nil, errors.New("a cluster node needs a client listener: NoListen set with a cluster port")
	}
	return so, nil
}

func (o Opts) apply(so *server.Options) {
	so.JetStream = true
	so.NoSigs = true
	if o.StoreDir != "" {
		so.StoreDir = o.StoreDir
	}
	if o.ServerName != "" {
		so.ServerName = o.ServerName
	}
	if o.Host != "" {
		so.Host = o.Host
	} else if so.Host == "" {
		so.Host = DefaultHost
	}
	switch {
	case o.NoListen:
		so.DontListen = true
	case o.Port != 0:
		so.Port = o.Port
	case o.ConfigFile == "" || so.Port == 0:
		so.Port = server.RANDOM_PORT
	}
	if o.MaxMemory > 0 {
		so.JetStreamMaxMemory = o.MaxMemory
	}
	if o.MaxStore > 0 {
		so.JetStreamMaxStore = o.MaxStore
	}
}
