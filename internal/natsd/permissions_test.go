package natsd_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// deniedWait bounds a denied call that waits for a reply that never comes;
// the permissions violation itself arrives at once.
const deniedWait = 250 * time.Millisecond

// roleConn is one client connection as a user of deploy/nats/accounts.conf.
type roleConn struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	errs *errLog
}

// errLog records the asynchronous errors of a connection: permission
// violations reach only the nats.ErrorHandler.
type errLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errLog) add(_ *nats.Conn, _ *nats.Subscription, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

// violation reports whether a permissions violation naming subject arrived.
func (l *errLog) violation(subject string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, err := range l.errs {
		if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), subject) {
			return true
		}
	}
	return false
}

// reset forgets the errors seen so far.
func (l *errLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = nil
}

func (l *errLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) == 0 {
		return "none"
	}
	return errors.Join(l.errs...).Error()
}

// connectAs connects as user with its password and, for restricted users,
// the per-user inbox prefix accounts.conf requires.
func connectAs(t *testing.T, url, user string) *roleConn {
	t.Helper()
	errs := &errLog{}
	opts := []nats.Option{nats.UserInfo(user, password(user)), nats.ErrorHandler(errs.add)}
	if user != "coordinator" {
		opts = append(opts, nats.CustomInboxPrefix("_INBOX."+user))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream as %s: %v", user, err)
	}
	return &roleConn{nc: nc, js: js, errs: errs}
}

// kv opens bucket as c.
func (c *roleConn) kv(ctx context.Context, bucket string) (jetstream.KeyValue, error) {
	return c.js.KeyValue(ctx, bucket)
}

// respond subscribes c to subject (in queue group queue when not empty) and
// answers every request with reply; the subscription ends with the test.
func (c *roleConn) respond(t *testing.T, subject, queue, reply string) error {
	t.Helper()
	sub, err := c.nc.QueueSubscribe(subject, queue, func(m *nats.Msg) { _ = m.Respond([]byte(reply)) })
	if err != nil {
		return err
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return c.nc.Flush()
}

// setupMesh creates, as the coordinator, the streams, buckets and consumer
// the roles use, with one assignment per prober and one site.
func setupMesh(t *testing.T, coord *roleConn) {
	t.Helper()
	ctx := t.Context()
	streams := []jetstream.StreamConfig{
		{Name: "JETMON_RESULTS", Subjects: []string{"jetmon.results.>"}},
		{Name: "JETMON_DELIVERY", Subjects: []string{"jetmon.deliver.>"}, Retention: jetstream.WorkQueuePolicy},
	}
	for _, cfg := range streams {
		if _, err := coord.js.CreateStream(ctx, cfg); err != nil {
			t.Fatalf("create stream %s: %v", cfg.Name, err)
		}
	}
	_, err := coord.js.CreateOrUpdateConsumer(ctx, "JETMON_DELIVERY", jetstream.ConsumerConfig{
		Durable: "webhook", FilterSubject: "jetmon.deliver.webhook.>", AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatalf("create consumer: %v", err)
	}
	puts := map[string]map[string]string{
		"JETMON_ASSIGNMENTS": {"prober-us-1": `{"epoch":1}`, "prober-eu-1": `{"epoch":1}`},
		"JETMON_SITES":       {"3.100": `{"url":"https://example.com"}`},
		"JETMON_NODES":       {},
		"JETMON_LEADER":      {},
	}
	for bucket, entries := range puts {
		kv, err := coord.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket})
		if err != nil {
			t.Fatalf("create KV %s: %v", bucket, err)
		}
		for k, v := range entries {
			if _, err := kv.PutString(ctx, k, v); err != nil {
				t.Fatalf("put %s/%s: %v", bucket, k, err)
			}
		}
	}
	if _, err := coord.js.Publish(ctx, "jetmon.deliver.webhook.7", []byte(`{"delivery":7}`)); err != nil {
		t.Fatalf("publish delivery job: %v", err)
	}
}

// permCase is one action of one user: allowed when denied is empty, else
// it must raise a permissions violation naming denied.
type permCase struct {
	name   string
	user   string
	do     func(ctx context.Context, t *testing.T, c *roleConn) error
	denied string
}

func TestDeployPermissions(t *testing.T) {
	srv := startSingleFromDeploy(t)
	url := srv.ClientURL()
	coord := connectAs(t, url, "coordinator")
	setupMesh(t, coord)
	request := func(subject string) error {
		_, err := coord.nc.Request(subject, []byte("{}"), 2*time.Second)
		return err
	}

	runPermCases(t, url, append(proberCases(request), otherRoleCases(request)...))

	// Denied publishes stored nothing: only the us result is in the stream.
	info, err := coord.js.Stream(t.Context(), "JETMON_RESULTS")
	if err != nil {
		t.Fatalf("results stream: %v", err)
	}
	if n := info.CachedInfo().State.Msgs; n != 1 {
		t.Errorf("JETMON_RESULTS holds %d messages, want 1 (the prober's own region)", n)
	}
}

// runPermCases runs cases in order, each user on one connection for all
// its cases.
func runPermCases(t *testing.T, url string, cases []permCase) {
	t.Helper()
	conns := map[string]*roleConn{}
	for _, tc := range cases {
		c, ok := conns[tc.user]
		if !ok {
			c = connectAs(t, url, tc.user) // lives for the whole test
			conns[tc.user] = c
		}
		t.Run(tc.name, func(t *testing.T) {
			c.errs.reset()
			wait := 5 * time.Second
			if tc.denied != "" {
				wait = deniedWait
			}
			ctx, cancel := context.WithTimeout(t.Context(), wait)
			defer cancel()
			err := tc.do(ctx, t, c)
			if tc.denied == "" {
				if err != nil {
					t.Fatalf("%s may do this, got %v (async errors: %v)", tc.user, err, c.errs)
				}
				if ferr := c.nc.Flush(); ferr != nil || c.errs.violation("") {
					t.Fatalf("%s may do this, got flush error %v, async errors: %v", tc.user, ferr, c.errs)
				}
				return
			}
			waitViolation(t, c, tc.denied)
		})
	}
}

// waitViolation polls c's error log until a permissions violation naming
// subject arrives, or fails after a deadline.
func waitViolation(t *testing.T, c *roleConn, subject string) {
	t.Helper()
	deadline := time.After(3 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !c.errs.violation(subject) {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("no permissions violation for %q; async errors: %v", subject, c.errs)
		}
	}
}

func proberCases(request func(string) error) []permCase {
	const us = "prober-us-1"
	return []permCase{
		{name: "prober publishes results for its region", user: us,
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				_, err := c.js.Publish(ctx, "jetmon.results.us.7", []byte("{}"), jetstream.WithMsgID("r1"))
				return err
			}},
		deniedPublish("prober publishes results for another region", us, "jetmon.results.eu.7"),
		{name: "prober gets and watches its assignment", user: us,
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				kv, err := c.kv(ctx, "JETMON_ASSIGNMENTS")
				if err != nil {
					return err
				}
				if _, err := kv.Get(ctx, us); err != nil {
					return err
				}
				return firstWatchEntry(ctx, kv, us)
			}},
		{name: "prober gets another prober's assignment", user: us,
			denied: `$JS.API.DIRECT.GET.KV_JETMON_ASSIGNMENTS.$KV.JETMON_ASSIGNMENTS.prober-eu-1"`,
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				kv, err := c.kv(ctx, "JETMON_ASSIGNMENTS")
				if err != nil {
					return err
				}
				_, err = kv.Get(ctx, "prober-eu-1")
				return err
			}},
		{name: "prober watches another prober's assignment", user: us,
			denied: `.$KV.JETMON_ASSIGNMENTS.prober-eu-1"`,
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				kv, err := c.kv(ctx, "JETMON_ASSIGNMENTS")
				if err != nil {
					return err
				}
				_, err = kv.Watch(ctx, "prober-eu-1")
				return err
			}},
		{name: "prober reads sites of its buckets", user: us,
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				kv, err := c.kv(ctx, "JETMON_SITES")
				if err != nil {
					return err
				}
				if _, err := kv.Get(ctx, "3.100"); err != nil {
					return err
				}
				w, err := kv.WatchFiltered(ctx, []string{"3.>", "4.>"})
				if err != nil {
					return err
				}
				defer func() { _ = w.Stop() }()
				return nextEntry(ctx, w)
			}},
		{name: "prober writes a site", user: us, denied: `"$KV.JETMON_SITES.3.100"`,
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				kv, err := c.kv(ctx, "JETMON_SITES")
				if err != nil {
					return err
				}
				_, err = kv.PutString(ctx, "3.100", "{}")
				return err
			}},
		deniedPublish("prober writes its assignment", us, "$KV.JETMON_ASSIGNMENTS.prober-us-1"),
		deniedPublish("prober writes the leader key", us, "$KV.JETMON_LEADER.coordinator"),
		deniedPublish("prober writes another node's presence key", us, "$KV.JETMON_NODES.prober.prober-eu-1"),
		{name: "prober answers its check command", user: us,
			do: func(_ context.Context, t *testing.T, c *roleConn) error {
				if err := c.respond(t, "jetmon.cmd.prober.prober-us-1.check", "", "{}"); err != nil {
					return err
				}
				return request("jetmon.cmd.prober.prober-us-1.check")
			}},
		{name: "prober listens to another prober's commands", user: us, denied: `"jetmon.cmd.prober.prober-eu-1.check"`,
			do: func(_ context.Context, t *testing.T, c *roleConn) error {
				return c.respond(t, "jetmon.cmd.prober.prober-eu-1.check", "", "{}")
			}},
		{name: "prober reads another user's inbox", user: us, denied: `"_INBOX.api.>"`,
			do: func(_ context.Context, t *testing.T, c *roleConn) error {
				return c.respond(t, "_INBOX.api.>", "", "{}")
			}},
	}
}

func otherRoleCases(request func(string) error) []permCase {
	return []permCase{
		{name: "veriflier answers votes for its region", user: "veriflier-us-1",
			do: func(_ context.Context, t *testing.T, c *roleConn) error {
				if err := c.respond(t, "jetmon.verify.us", "veriflier-us", `{"up":true}`); err != nil {
					return err
				}
				return request("jetmon.verify.us")
			}},
		{name: "veriflier takes votes of another region", user: "veriflier-us-1", denied: `"jetmon.verify.eu"`,
			do: func(_ context.Context, t *testing.T, c *roleConn) error {
				return c.respond(t, "jetmon.verify.eu", "veriflier-eu", "{}")
			}},
		deniedPublish("veriflier publishes a result", "veriflier-us-1", "jetmon.results.us.1"),
		{name: "deliverer pulls, acks and fans out", user: "deliverer",
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				return pullAndFanOut(ctx, c)
			}},
		deniedPublish("deliverer publishes a transition", "deliverer", "jetmon.deliver.transition"),
		{name: "deliverer creates a consumer", user: "deliverer", denied: `$JS.API.CONSUMER.CREATE.JETMON_DELIVERY`,
			do: func(ctx context.Context, _ *testing.T, c *roleConn) error {
				_, err := c.js.CreateOrUpdateConsumer(ctx, "JETMON_DELIVERY", jetstream.ConsumerConfig{Durable: "mine"})
				return err
			}},
		deniedPublish("api commands a prober directly", "api", "jetmon.cmd.prober.prober-us-1.check"),
	}
}

// deniedPublish is a case where user publishes to subject and is denied.
func deniedPublish(name, user, subject string) permCase {
	return permCase{name: name, user: user, denied: `"` + subject + `"`,
		do: func(_ context.Context, _ *testing.T, c *roleConn) error { return publishFlush(c, subject) }}
}

func publishFlush(c *roleConn, subject string) error {
	if err := c.nc.Publish(subject, []byte("{}")); err != nil {
		return err
	}
	return c.nc.Flush()
}

// firstWatchEntry watches key and waits for its current value.
func firstWatchEntry(ctx context.Context, kv jetstream.KeyValue, key string) error {
	w, err := kv.Watch(ctx, key)
	if err != nil {
		return err
	}
	defer func() { _ = w.Stop() }()
	return nextEntry(ctx, w)
}

// nextEntry waits for the first non-nil watcher entry.
func nextEntry(ctx context.Context, w jetstream.KeyWatcher) error {
	for {
		select {
		case e := <-w.Updates():
			if e != nil {
				return nil
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// pullAndFanOut is a deliverer's cycle: take the webhook job from its
// consumer, fan out a new job, ack.
func pullAndFanOut(ctx context.Context, c *roleConn) error {
	cons, err := c.js.Consumer(ctx, "JETMON_DELIVERY", "webhook")
	if err != nil {
		return err
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		return err
	}
	var got int
	for msg := range batch.Messages() {
		got++
		if _, err := c.js.Publish(ctx, "jetmon.deliver.alert.3", msg.Data()); err != nil {
			return err
		}
		if err := msg.DoubleAck(ctx); err != nil {
			return err
		}
	}
	if got != 1 {
		return errors.New("fetched no delivery job")
	}
	return batch.Error()
}
