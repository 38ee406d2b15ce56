package natsd_test

// Tests of the real nats-server configs in deploy/nats. They set the
// environment variables the configs reference (t.Setenv), so they do not run
// in parallel.

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/natsd"
)

const deployDir = "../../deploy/nats"

// deployUsers maps each JETMON user of deploy/nats/accounts.conf to the
// environment variable holding its password.
func deployUsers() map[string]string {
	return map[string]string{
		"coordinator":    "COORDINATOR_PASSWORD",
		"prober-us-1":    "PROBER_US_1_PASSWORD",
		"prober-eu-1":    "PROBER_EU_1_PASSWORD",
		"veriflier-us-1": "VERIFLIER_US_1_PASSWORD",
		"veriflier-eu-1": "VERIFLIER_EU_1_PASSWORD",
		"deliverer":      "DELIVERER_PASSWORD",
		"api":            "API_PASSWORD",
	}
}

// password is the test password of user: alphanumeric, as accounts.conf
// asks, and different per user.
func password(user string) string { return "pw" + strings.ReplaceAll(user, "-", "") }

// setDeployEnv sets every environment variable deploy/nats references.
func setDeployEnv(t *testing.T) testCerts {
	t.Helper()
	for user, env := range deployUsers() {
		t.Setenv(env, password(user))
	}
	t.Setenv("SYS_PASSWORD", password("sys"))
	certs := writeTestCerts(t)
	t.Setenv("NATS_TLS_CERT", certs.Cert)
	t.Setenv("NATS_TLS_KEY", certs.Key)
	t.Setenv("NATS_TLS_CA", certs.CA)
	return certs
}

func TestDeployConfigsParse(t *testing.T) {
	setDeployEnv(t)
	var files []string
	err := filepath.WalkDir(deployDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".conf") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk %s: %v", deployDir, err)
	}
	checks := map[string]func(*testing.T, *server.Options){
		"accounts.conf":       checkAccounts,
		"single.conf":         checkSingle,
		"cluster/node-1.conf": checkClusterNode("nats-1"),
		"cluster/node-2.conf": checkClusterNode("nats-2"),
		"cluster/node-3.conf": checkClusterNode("nats-3"),
	}
	if len(files) != len(checks) {
		t.Errorf("found %d config files %v, want %d", len(files), files, len(checks))
	}
	for _, path := range files {
		rel, _ := filepath.Rel(deployDir, path)
		t.Run(rel, func(t *testing.T) {
			opts, err := server.ProcessConfigFile(path)
			if err != nil {
				t.Fatalf("ProcessConfigFile: %v", err)
			}
			check, ok := checks[filepath.ToSlash(rel)]
			if !ok {
				t.Fatalf("no check for %s: add one", rel)
			}
			check(t, opts)
			if rel != "accounts.conf" {
				checkAccounts(t, opts)
			}
		})
	}
}

func TestDeployConfigNeedsPasswords(t *testing.T) {
	setDeployEnv(t)
	if err := os.Unsetenv("PROBER_US_1_PASSWORD"); err != nil { // t.Setenv restores it
		t.Fatalf("unsetenv: %v", err)
	}
	_, err := server.ProcessConfigFile(filepath.Join(deployDir, "single.conf"))
	if err == nil || !strings.Contains(err.Error(), "PROBER_US_1_PASSWORD") {
		t.Fatalf("parse without PROBER_US_1_PASSWORD: err = %v, want it named", err)
	}
}

func checkAccounts(t *testing.T, o *server.Options) {
	t.Helper()
	if o.SystemAccount != "SYS" {
		t.Errorf("system_account = %q, want SYS", o.SystemAccount)
	}
	want := deployUsers()
	got := map[string]string{}
	for _, u := range o.Users {
		got[u.Username] = u.Account.Name
		if u.Username != "sys" && u.Password != password(u.Username) {
			t.Errorf("user %s: password not taken from %s", u.Username, want[u.Username])
		}
	}
	for user := range want {
		if got[user] != "JETMON" {
			t.Errorf("user %s: account %q, want JETMON", user, got[user])
		}
	}
	if got["sys"] != "SYS" || len(got) != len(want)+1 {
		t.Errorf("users = %v, want %d JETMON users and sys in SYS", got, len(want))
	}
}

func checkSingle(t *testing.T, o *server.Options) {
	t.Helper()
	if o.Host != "127.0.0.1" || o.Port != 4222 || o.HTTPHost != "127.0.0.1" || o.HTTPPort != 8222 {
		t.Errorf("listen %s:%d http %s:%d, want loopback 4222 and 8222", o.Host, o.Port, o.HTTPHost, o.HTTPPort)
	}
	if !o.JetStream || o.StoreDir == "" {
		t.Errorf("jetstream %v store_dir %q, want enabled with a store dir", o.JetStream, o.StoreDir)
	}
}

func checkClusterNode(name string) func(*testing.T, *server.Options) {
	return func(t *testing.T, o *server.Options) {
		t.Helper()
		if o.ServerName != name || o.Cluster.Name != "jetmon" || o.Cluster.Port != 6222 {
			t.Errorf("server %q cluster %q port %d, want %s in jetmon on 6222", o.ServerName, o.Cluster.Name, o.Cluster.Port, name)
		}
		if len(o.Routes) != 3 {
			t.Errorf("routes = %v, want 3", o.Routes)
		}
		if o.TLSConfig == nil || o.Cluster.TLSConfig == nil {
			t.Error("client and route TLS must both be configured")
		}
		if !o.JetStream || o.StoreDir == "" || o.HTTPHost != "127.0.0.1" {
			t.Errorf("jetstream %v store %q http host %q", o.JetStream, o.StoreDir, o.HTTPHost)
		}
	}
}

// startSingleFromDeploy boots deploy/nats/single.conf in-process with its
// store dir, client port and monitoring port moved.
func startSingleFromDeploy(t *testing.T) *natsd.Server {
	t.Helper()
	setDeployEnv(t)
	return startServer(t, natsd.Opts{
		ConfigFile: filepath.Join(deployDir, "single.conf"),
		StoreDir:   t.TempDir(),
		Port:       -1,
		Configure:  func(o *server.Options) { o.HTTPPort = -1 },
	})
}

func TestDeploySingleNodeBoots(t *testing.T) {
	srv := startSingleFromDeploy(t)
	ns := srv.NATSServer()
	if ns.Name() != "jetmon-nats-1" {
		t.Errorf("server name = %q, want jetmon-nats-1 from single.conf", ns.Name())
	}
	if _, err := nats.Connect(srv.ClientURL()); err == nil {
		t.Error("anonymous connect succeeded, want an authorization error")
	}
	nc, err := nats.Connect(srv.ClientURL(), nats.UserInfo("coordinator", password("coordinator")))
	if err != nil {
		t.Fatalf("connect as coordinator: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	if _, err := js.CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "JETMON_LEADER"}); err != nil {
		t.Fatalf("create KV as coordinator: %v", err)
	}

	healthz := "http://" + ns.MonitorAddr().String() + "/healthz"
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, healthz, nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", healthz, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s = %d, want 200", healthz, resp.StatusCode)
	}
}

func TestDeployClusterBoots(t *testing.T) {
	certs := setDeployEnv(t)
	start := time.Now()
	nodes := startDeployCluster(t)
	t.Logf("ready after %s", time.Since(start))

	nc, err := nats.Connect(nodes[0].ClientURL(),
		nats.UserInfo("coordinator", password("coordinator")), nats.RootCAs(certs.CA))
	if err != nil {
		t.Fatalf("connect with TLS as coordinator: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	waitJetStream(t, js)
	t.Logf("js ready after %s", time.Since(start))
	ctx := t.Context()
	cfg := jetstream.StreamConfig{Name: "JETMON_RESULTS", Subjects: []string{"jetmon.results.>"}, Replicas: 3}
	stream, err := js.CreateStream(ctx, cfg)
	if err != nil {
		t.Fatalf("create R3 stream: %v", err)
	}
	if _, err := js.Publish(ctx, "jetmon.results.us.1", []byte("{}")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	if info.Cluster == nil || info.Cluster.Name != "jetmon" || len(info.Cluster.Replicas) != 2 {
		t.Errorf("stream cluster = %+v, want cluster jetmon with a leader and 2 replicas", info.Cluster)
	}
}

// startDeployCluster boots the three deploy/nats/cluster configs in-process,
// loopback only, with route ports from a low range (outside the ephemeral
// range, retried when taken).
func startDeployCluster(t *testing.T) []*natsd.Server {
	t.Helper()
	var lastErr error
	for range 5 {
		nodes, err := tryDeployCluster(t, pickLowPorts(t, 3))
		if err == nil {
			return nodes
		}
		lastErr = err
	}
	t.Fatalf("boot deploy cluster: %v", lastErr)
	return nil
}

func tryDeployCluster(t *testing.T, ports []int) ([]*natsd.Server, error) {
	t.Helper()
	routes := make([]*url.URL, len(ports))
	for i, p := range ports {
		routes[i] = &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)}
	}
	ctx, cancel := context.WithCancel(context.Background())
	nodes := make([]*natsd.Server, len(ports))
	done := make(chan struct{}, len(ports))
	for i := range ports {
		srv, err := natsd.New(natsd.Opts{
			ConfigFile: filepath.Join(deployDir, "cluster", fmt.Sprintf("node-%d.conf", i+1)),
			StoreDir:   t.TempDir(),
			Host:       "127.0.0.1",
			Port:       -1,
			Configure: func(o *server.Options) {
				o.HTTPPort = 0
				o.Cluster.Host = "127.0.0.1"
				o.Cluster.Port = ports[i]
				o.Routes = slices.Clone(routes)
			},
		})
		if err != nil {
			cancel()
			return nil, err
		}
		nodes[i] = srv
		go func() {
			defer func() { done <- struct{}{} }()
			_ = srv.Run(ctx)
		}()
	}
	stop := func() {
		cancel()
		for range nodes {
			<-done
		}
	}
	for _, srv := range nodes {
		wctx, wcancel := context.WithTimeout(t.Context(), 15*time.Second)
		err := srv.WaitReady(wctx)
		wcancel()
		if err != nil {
			stop()
			return nil, err
		}
	}
	t.Cleanup(stop)
	return nodes, nil
}

// pickLowPorts returns n consecutive ports in 12000-30000, below Linux's
// ephemeral range, that were free a moment ago.
func pickLowPorts(t *testing.T, n int) []int {
	t.Helper()
	for range 50 {
		base := 12000 + rand.IntN(18000-n)
		ports := make([]int, 0, n)
		for p := base; p < base+n; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				break
			}
			_ = l.Close()
			ports = append(ports, p)
		}
		if len(ports) == n {
			return ports
		}
	}
	t.Fatal("no free low ports")
	return nil
}

// waitJetStream waits until the JetStream meta leader answers, with a
// per-attempt timeout (a single long request can stick while the meta group
// forms).
func waitJetStream(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("JetStream not ready after 20s: %v", err)
		}
	}
}
