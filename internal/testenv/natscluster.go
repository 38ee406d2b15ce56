package testenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/natsd"
)

// Route ports come from [routePortMin, routePortMax), below Linux's
// ephemeral range (32768-60999) so that outgoing connections never hold
// them. JetStream clusters need fixed route ports: every node must list the
// others' routes before any of them starts.
const (
	routePortMin   = 12000
	routePortMax   = 30000
	clusterRetries = 5
)

// globalAccount is the account streams live in when the server has no
// accounts configured.
const globalAccount = server.DEFAULT_GLOBAL_ACCOUNT

// Cluster is an in-process JetStream cluster owned by one test. Nodes are
// named n1, n2, ...; node i keeps its name, store dir, route port and client
// port across Kill and Restart, so it rejoins with its raft identity. Its
// methods must be called from the test's goroutine.
type Cluster struct {
	t     testing.TB
	opts  []natsd.Opts    // per node; each start builds fresh server options from them
	stops []func() error  // per node; nil while the node is down
	srvs  []*natsd.Server // per node; the last started server
}

// StartCluster starts an n-node JetStream cluster on 127.0.0.1 and waits
// until its JetStream meta leader answers. Route ports are picked from a low
// range by trying to listen, and the whole cluster is started again on new
// ports when a port turns out to be taken. All nodes stop when t ends.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("testenv: cluster size %d < 1", n)
	}
	logger := natsTestLogger(t)
	var errs []error
	for range clusterRetries {
		c := &Cluster{t: t}
		err := c.start(clusterOpts(t, n, pickRoutePorts(t, n), logger))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		t.Cleanup(c.stopAll)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = c.WaitJSReady(ctx)
		cancel()
		if err != nil {
			t.Fatalf("testenv: cluster JetStream: %v", err)
		}
		return c
	}
	t.Fatalf("testenv: start cluster: %v", errors.Join(errs...))
	return nil
}

// clusterOpts builds the per-node options of an n-node cluster on ports.
func clusterOpts(t testing.TB, n int, ports []int, logger *slog.Logger) []natsd.Opts {
	routes := make([]*url.URL, n)
	for i, p := range ports {
		routes[i] = &url.URL{Scheme: "nats-route", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p))}
	}
	opts := make([]natsd.Opts, n)
	for i := range n {
		name := fmt.Sprintf("n%d", i+1)
		opts[i] = natsd.Opts{
			StoreDir:   t.TempDir(),
			ServerName: name,
			Host:       "127.0.0.1",
			Port:       -1,
			Logger:     logger.With("node", name),
			Configure: func(o *server.Options) {
				o.Cluster.Name = "testenv"
				o.Cluster.Host = "127.0.0.1"
				o.Cluster.Port = ports[i]
				o.Cluster.Compression = server.CompressionOpts{Mode: server.CompressionOff}
				o.Routes = slices.Clone(routes)
			},
		}
	}
	return opts
}

// start starts every node and waits until each accepts connections; on
// failure it stops the nodes it started.
func (c *Cluster) start(opts []natsd.Opts) error {
	c.opts = opts
	c.stops = make([]func() error, len(opts))
	c.srvs = make([]*natsd.Server, len(opts))
	for i := range opts {
		if err := c.launch(i); err != nil {
			c.stopAll()
			return err
		}
	}
	for i := range opts {
		if err := c.waitNode(i); err != nil {
			c.stopAll()
			return err
		}
	}
	return nil
}

// launch starts node i in the background.
func (c *Cluster) launch(i int) error {
	srv, err := natsd.New(c.opts[i])
	if err != nil {
		return fmt.Errorf("node %d: %w", i, err)
	}
	c.srvs[i] = srv
	c.stops[i] = runNATS(srv)
	return nil
}

// waitNode waits until node i accepts connections and pins its client port
// so that a restart keeps the node's URL.
func (c *Cluster) waitNode(i int) error {
	ctx, cancel := context.WithTimeout(context.Background(), natsStartTimeout)
	defer cancel()
	if err := c.srvs[i].WaitReady(ctx); err != nil {
		return fmt.Errorf("node %d: %w", i, err)
	}
	u, err := url.Parse(c.srvs[i].ClientURL())
	if err != nil {
		return fmt.Errorf("node %d client url: %w", i, err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return fmt.Errorf("node %d client port: %w", i, err)
	}
	c.opts[i].Port = port
	return nil
}

func (c *Cluster) stopAll() {
	for i := range c.stops {
		c.stopNode(i)
	}
}

func (c *Cluster) stopNode(i int) {
	if c.stops[i] == nil {
		return
	}
	stop := c.stops[i]
	c.stops[i] = nil
	if err := stop(); err != nil {
		c.t.Errorf("testenv: stop node %d: %v", i, err)
	}
}

// URLs returns the client URLs of all nodes, running or not.
func (c *Cluster) URLs() []string {
	urls := make([]string, len(c.opts))
	for i, o := range c.opts {
		urls[i] = "nats://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(o.Port))
	}
	return urls
}

// Server returns node i's embedded server, or nil while the node is down.
func (c *Cluster) Server(i int) *natsd.Server {
	if c.stops[i] == nil {
		return nil
	}
	return c.srvs[i]
}

// Connect returns a connection to all nodes that reconnects forever and
// quickly (MaxReconnects(-1), ReconnectWait 50ms), closed when t ends. opts
// are added last and so win.
func (c *Cluster) Connect(t testing.TB, opts ...nats.Option) *nats.Conn {
	t.Helper()
	all := append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(50 * time.Millisecond)}, opts...)
	nc, err := nats.Connect(strings.Join(c.URLs(), ","), all...)
	if err != nil {
		t.Fatalf("testenv: connect to cluster: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Kill stops node i gracefully and waits until it is down. The node steps
// its raft leaderships down on the way out, and a peer usually takes over
// at once; but the hand-over is not waited for, and when it is lost the
// peers elect a new leader only after their election timeout (4 to 9 s in
// nats-server, more on a loaded machine). Wait for the successor with
// WaitStreamLeader rather than assuming a quick one.
func (c *Cluster) Kill(i int) {
	c.t.Helper()
	if c.stops[i] == nil {
		c.t.Fatalf("testenv: kill node %d: not running", i)
	}
	c.stopNode(i)
}

// Restart starts node i again with its name, store dir and ports, and
// waits until it accepts connections. Use WaitStreamCurrent to wait until
// it has caught up.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	if c.stops[i] != nil {
		c.t.Fatalf("testenv: restart node %d: still running", i)
	}
	if err := c.launch(i); err != nil {
		c.t.Fatalf("testenv: restart: %v", err)
	}
	if err := c.waitNode(i); err != nil {
		c.stopNode(i)
		c.t.Fatalf("testenv: restart: %v", err)
	}
}

// StreamLeader returns the index of the node leading stream (in the
// default account), or -1 when no running node leads it.
func (c *Cluster) StreamLeader(stream string) int {
	for i := range c.srvs {
		if srv := c.Server(i); srv != nil && srv.NATSServer().JetStreamIsStreamLeader(globalAccount, stream) {
			return i
		}
	}
	return -1
}

// WaitStreamLeader waits until a running node other than node not leads
// stream (in the default account) and returns it; pass -1 to accept any.
func (c *Cluster) WaitStreamLeader(ctx context.Context, stream string, not int) (int, error) {
	leader := -1
	err := pollNATS(ctx, 50*time.Millisecond, func() (bool, error) {
		leader = c.StreamLeader(stream)
		if leader < 0 || leader == not {
			return false, fmt.Errorf("stream %s led by node %d", stream, leader)
		}
		return true, nil
	})
	if err != nil {
		return -1, err
	}
	return leader, nil
}

// WaitJSReady waits until the JetStream meta leader answers an account
// info request and sees every running node as an online peer: until then
// an R3 create fails with "no suitable peers for placement". Each attempt
// has its own 1s timeout: one long request can stay stuck while the meta
// group forms.
func (c *Cluster) WaitJSReady(ctx context.Context) error {
	nc, err := nats.Connect(strings.Join(c.URLs(), ","), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	return pollNATS(ctx, 100*time.Millisecond, func() (bool, error) {
		actx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if _, err := js.AccountInfo(actx); err != nil {
			return false, fmt.Errorf("account info: %w", err)
		}
		if online, running := c.metaPeers(); online < running {
			return false, fmt.Errorf("meta leader sees %d of %d nodes online", online, running)
		}
		return true, nil
	})
}

// metaPeers counts the running nodes and the online JetStream peers the
// meta leader knows (0 without a leader).
func (c *Cluster) metaPeers() (online, running int) {
	for i := range c.srvs {
		srv := c.Server(i)
		if srv == nil {
			continue
		}
		running++
		if ns := srv.NATSServer(); ns.JetStreamIsLeader() {
			online = len(ns.JetStreamClusterPeers())
		}
	}
	return online, running
}

// WaitStreamCurrent waits until stream (in the default account) has a
// leader and every running node holds a replica that is current.
func (c *Cluster) WaitStreamCurrent(ctx context.Context, stream string) error {
	err := pollNATS(ctx, 50*time.Millisecond, func() (bool, error) {
		if c.StreamLeader(stream) < 0 {
			return false, errors.New("no stream leader")
		}
		for i := range c.srvs {
			srv := c.Server(i)
			if srv != nil && !srv.NATSServer().JetStreamIsStreamCurrent(globalAccount, stream) {
				return false, fmt.Errorf("node %d not current", i)
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", stream, err)
	}
	return nil
}

// pickRoutePorts returns n consecutive ports in [routePortMin,
// routePortMax) that were free a moment ago. The base is random because
// tests of several packages run at once; callers retry on bind failure.
func pickRoutePorts(t testing.TB, n int) []int {
	t.Helper()
	for range 100 {
		base := routePortMin + rand.IntN(routePortMax-routePortMin-n)
		if portsFree(t.Context(), base, n) {
			ports := make([]int, n)
			for i := range ports {
				ports[i] = base + i
			}
			return ports
		}
	}
	t.Fatalf("testenv: no %d free ports in %d-%d", n, routePortMin, routePortMax)
	return nil
}

func portsFree(ctx context.Context, base, n int) bool {
	var lc net.ListenConfig
	for p := base; p < base+n; p++ {
		l, err := lc.Listen(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return false
		}
		_ = l.Close()
	}
	return true
}
