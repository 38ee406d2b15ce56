package jetmoncmd

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/jetmon-mesh/jetmon/deliverer"
	"github.com/jetmon-mesh/jetmon/deliverer/webhook"
	"github.com/jetmon-mesh/jetmon/internal/cli"
)

// Demo receiver limits.
const (
	demoReceiverMaxBody = 1 << 20
	demoReceiverTimeout = 10 * time.Second
)

// demoReceiver is the demo's webhook receiver: an HTTP server on
// 127.0.0.1:0 that verifies each delivery's X-Jetmon-Signature with
// webhook.Verify against the secrets of the webhooks registered for the
// URL it was sent to, logs "demo webhook received" with the event type,
// delivery id and transition id, and counts deliveries it saw before
// (receivers dedupe on X-Jetmon-Delivery). It is a cli.Runner.
type demoReceiver struct {
	secrets secretsFor
	log     *slog.Logger
	now     func() time.Time
	ln      net.Listener
	srv     *http.Server

	mu         sync.Mutex
	seen       map[string]int // delivery id -> requests verified
	duplicates int
	rejected   int
}

// secretsFor returns the signing secrets valid for deliveries to url.
type secretsFor func(ctx context.Context, url string) ([]string, error)

// staticSecret accepts deliveries to any URL signed with secret.
func staticSecret(secret string) secretsFor {
	return func(context.Context, string) ([]string, error) { return []string{secret}, nil }
}

// registeredSecrets reads the secrets (and a rotation's previous secret
// while its grace window lasts) of the active webhooks registered for a
// URL, so a webhook registered through the API verifies too.
func registeredSecrets(db *sql.DB) secretsFor {
	return func(ctx context.Context, url string) ([]string, error) {
		rows, err := db.QueryContext(ctx, `SELECT secret, IF(previous_secret_expires_at > UTC_TIMESTAMP(3),
			previous_secret, NULL) FROM jetmon_webhooks WHERE url = ? AND active = 1`, url)
		if err != nil {
			return nil, fmt.Errorf("webhook secrets: %w", err)
		}
		defer func() { _ = rows.Close() }()
		var secrets []string
		for rows.Next() {
			var secret string
			var previous sql.NullString
			if err := rows.Scan(&secret, &previous); err != nil {
				return nil, fmt.Errorf("webhook secrets: %w", err)
			}
			secrets = append(secrets, secret)
			if previous.Valid {
				secrets = append(secrets, previous.String)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("webhook secrets: %w", err)
		}
		return secrets, nil
	}
}

// newDemoReceiver listens on 127.0.0.1:0 for deliveries signed with one of
// the secrets secrets returns for the URL they were sent to.
func newDemoReceiver(ctx context.Context, secrets secretsFor, logger *slog.Logger) (*demoReceiver, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo webhook receiver: %w", err)
	}
	r := &demoReceiver{secrets: secrets, log: logger.With("component", "demo-receiver"), now: time.Now, ln: ln,
		seen: map[string]int{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: demoReceiverTimeout,
		ReadTimeout: demoReceiverTimeout}
	return r, nil
}

// URL is the demo's own webhook; any path below /hook/ is served too
// (URLFor), each verified with the secrets registered for it.
func (r *demoReceiver) URL() string { return r.URLFor("demo") }

// URLFor is a receiver URL for another webhook, e.g. one registered
// through the API.
func (r *demoReceiver) URLFor(name string) string {
	return "http://" + r.ln.Addr().String() + "/hook/" + name
}

// Run serves until ctx ends.
func (r *demoReceiver) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- r.srv.Serve(r.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("demo webhook receiver: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if err := r.srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("demo webhook receiver: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("demo webhook receiver: %w", err)
	}
	return nil
}

func (r *demoReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, demoReceiverMaxBody))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	delivery := req.Header.Get(webhook.HeaderDelivery)
	secrets, err := r.secrets(req.Context(), "http://"+r.ln.Addr().String()+req.URL.Path)
	if err != nil {
		r.log.Warn("demo webhook: cannot read secrets", "err", err)
		http.Error(w, "no secrets", http.StatusServiceUnavailable)
		return
	}
	if err := webhook.Verify(req.Header.Get(webhook.HeaderSignature), body, secrets, 0, r.now()); err != nil {
		r.count(func() { r.rejected++ })
		r.log.Warn("demo webhook rejected: bad signature", "delivery_id", delivery, "err", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var transitionID int64
	if p, err := deliverer.ParsePayload(body); err == nil {
		transitionID = p.Transition.ID
	}
	var times int
	r.count(func() {
		r.seen[delivery]++
		times = r.seen[delivery]
		if times > 1 {
			r.duplicates++
		}
	})
	r.log.Info("demo webhook received", "event_type", req.Header.Get(webhook.HeaderEvent), "delivery_id", delivery,
		"transition_id", transitionID, "duplicate", times > 1, "path", req.URL.Path, "signature", "valid")
	w.WriteHeader(http.StatusNoContent)
}

func (r *demoReceiver) count(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
}

// stats returns how many distinct deliveries were received, how many
// requests repeated one, and how many had a bad signature.
func (r *demoReceiver) stats() (deliveries, duplicates, rejected int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen), r.duplicates, r.rejected
}

// addDemoReceiver starts the demo's webhook receiver on 127.0.0.1:0,
// registers it as a webhook for every event with a fresh secret, and adds
// it to node as "demo-receiver". Webhooks of earlier demo runs (their
// receivers are gone) are deactivated first. It logs where it listens.
func addDemoReceiver(ctx context.Context, rt *cli.Runtime, node *cli.Node, db *sql.DB) (*demoReceiver, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("demo webhook secret: %w", err)
	}
	secret := "whsec_demo" + hex.EncodeToString(b)
	// Their receivers (and the demo key's webhooks' receivers) are gone.
	if _, err := db.ExecContext(ctx, `UPDATE jetmon_webhooks SET active = 0
		WHERE created_by = 'demo' AND active = 1`); err != nil {
		return nil, fmt.Errorf("retire earlier demo webhooks: %w", err)
	}
	r, err := newDemoReceiver(ctx, registeredSecrets(db), rt.Logger)
	if err != nil {
		return nil, err
	}
	id, err := registerDemoWebhook(ctx, db, r.URL(), secret)
	if err != nil {
		_ = r.ln.Close()
		return nil, err
	}
	rt.Logger.Info("demo webhook receiver listening", "component", "demo-receiver", "url", r.URL(), "webhook_id", id)
	node.Add("demo-receiver", r)
	return r, nil
}

// registerDemoWebhook registers url as an active webhook for every event,
// signed with secret, and returns its id.
func registerDemoWebhook(ctx context.Context, db *sql.DB, url, secret string) (int64, error) {
	res, err := db.ExecContext(ctx, `INSERT INTO jetmon_webhooks (url, active, secret, secret_preview, created_by)
		VALUES (?, 1, ?, ?, 'demo')`, url, secret, secret[max(len(secret)-4, 0):])
	if err != nil {
		return 0, fmt.Errorf("register demo webhook: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("register demo webhook: %w", err)
	}
	return id, nil
}
