package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/jetmon-mesh/jetmon/internal/config"
)

// ConnectNATS dials the external NATS at NATS_URL with the node's
// credentials; the connection reconnects forever and logs its state changes.
func ConnectNATS(cfg config.Config, role string, logger *slog.Logger, extra ...nats.Option) (*nats.Conn, error) {
	if cfg.NATS.URL == "" {
		return nil, fmt.Errorf("NATS_URL is required for `jetmon %s` (only `jetmon all` embeds a NATS server)", role)
	}
	opts := append(ClientOptions(cfg, role, logger), extra...)
	nc, err := nats.Connect(cfg.NATS.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", cfg.NATS.URL, err)
	}
	return nc, nil
}

// ClientOptions are the nats.go options every role's connection uses.
func ClientOptions(cfg config.Config, role string, logger *slog.Logger) []nats.Option {
	log := logger.With("component", "nats")
	opts := []nats.Option{
		nats.Name(fmt.Sprintf("jetmon-%s-%s", role, cfg.NodeID)),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted()) }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("nats async error", "subject", subject, "err", err)
		}),
	}
	if cfg.NATS.User != "" {
		// Restricted users may subscribe only below their own inbox prefix
		// (deploy/nats/README.md).
		opts = append(opts, nats.UserInfo(cfg.NATS.User, cfg.NATS.Password.Reveal()),
			nats.CustomInboxPrefix("_INBOX."+cfg.NATS.User))
	}
	if cfg.NATS.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.NATS.CredsFile))
	}
	return opts
}

// drainConn flushes and closes the connection within timeout, so in-flight
// publishes are not lost.
func drainConn(nc *nats.Conn, timeout time.Duration) error {
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := nc.Drain(); err != nil {
		if errors.Is(err, nats.ErrConnectionClosed) {
			return nil
		}
		return fmt.Errorf("drain nats: %w", err)
	}
	select {
	case <-closed:
		return nil
	case <-time.After(timeout):
		nc.Close()
		return errors.New("drain nats: timed out")
	}
}
