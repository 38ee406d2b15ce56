package bus_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jetmon-mesh/jetmon/internal/bus"
	"github.com/jetmon-mesh/jetmon/internal/testenv"
	"github.com/jetmon-mesh/jetmon/uptime"
)

// codedError is how a role names a reply code without importing bus.
type codedError struct{ code, msg string }

func (e codedError) Error() string { return e.msg }
func (e codedError) Code() string  { return e.code }

func TestCommands(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	client, err := bus.NewCommandClient(n.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	// No leader serving: unavailable at once.
	start := time.Now()
	if _, err := client.Call(t.Context(), bus.VerbSiteSync, nil); !errors.Is(err, bus.ErrCoordinatorUnavailable) {
		t.Fatalf("without a server: %v, want ErrCoordinatorUnavailable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("no-responders took %v", d)
	}

	srv, err := bus.NewCommandServer(n.Conn(t), bus.CommandServerOpts{})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{}, 1)
	handlers := map[string]bus.CommandHandler{
		bus.VerbSiteSync: func(_ context.Context, payload []byte) ([]byte, error) {
			return fmt.Appendf(nil, `{"ok":true,"synced":%d}`, len(payload)), nil
		},
		"fail":   func(context.Context, []byte) ([]byte, error) { return nil, errors.New("disk full") },
		"refuse": func(context.Context, []byte) ([]byte, error) { return nil, codedError{"bad_request", "no such site"} },
		// A role's coded error whose message starts with its code (as
		// the coordinator's do) reads "code: message" once, not twice.
		"refuse.prefixed": func(context.Context, []byte) ([]byte, error) {
			return nil, codedError{"not_found", "not_found: blog 9"}
		},
		"not.json":  func(context.Context, []byte) ([]byte, error) { return []byte("plain"), nil },
		"no.answer": func(context.Context, []byte) ([]byte, error) { return nil, nil },
		"slow": func(ctx context.Context, _ []byte) ([]byte, error) {
			started <- struct{}{}
			<-ctx.Done()
			return nil, ctx.Err()
		},
	}
	stop := run(t, func(ctx context.Context) error { return srv.ServeCommands(ctx, handlers) })
	eventually(t, 2*time.Second, "server subscribed", func() error {
		_, err := client.Call(t.Context(), "no.answer", nil)
		return err
	})

	rows := map[string]struct {
		verb     string
		payload  string
		wantData string
		wantCode string
		wantMsg  string // of the error reply, when set
	}{
		"ok with data":                  {verb: bus.VerbSiteSync, payload: "abc", wantData: `{"ok":true,"synced":3}`},
		"ok without data":               {verb: "no.answer"},
		"handler error":                 {verb: "fail", wantCode: bus.CodeInternal},
		"coded error":                   {verb: "refuse", wantCode: "bad_request", wantMsg: "no such site"},
		"coded error named by its code": {verb: "refuse.prefixed", wantCode: "not_found", wantMsg: "blog 9"},
		"reply not json":                {verb: "not.json", wantCode: bus.CodeInternal},
		"unknown verb":                  {verb: "site.resync", wantCode: bus.CodeUnknownVerb},
	}
	for name, row := range rows {
		t.Run(name, func(t *testing.T) { // not parallel: the server stops below
			data, err := client.Call(t.Context(), row.verb, []byte(row.payload))
			if row.wantCode != "" {
				ce, ok := errors.AsType[*bus.CommandError](err)
				if !ok || ce.Code != row.wantCode || (row.wantMsg != "" && ce.Message != row.wantMsg) {
					t.Fatalf("err = %v, want code %s and message %q", err, row.wantCode, row.wantMsg)
				}
				return
			}
			if err != nil || string(data) != row.wantData {
				t.Fatalf("Call = %q, %v; want %q", data, err, row.wantData)
			}
		})
	}
	if _, err := client.Call(t.Context(), "bad verb*", nil); err == nil {
		t.Error("wildcard verb: want an error")
	}

	// A request being handled when the server stops gets an answer anyway
	// (the handler sees ctx end), and later ones find no server.
	slow := make(chan error, 1)
	go func() { _, err := client.Call(t.Context(), "slow", nil); slow <- err }()
	recv(t, started, 5*time.Second, "slow handler started")
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	err = recv(t, slow, 5*time.Second, "slow call")
	if ce, ok := errors.AsType[*bus.CommandError](err); !ok || ce.Code != bus.CodeInternal {
		t.Errorf("slow call during stop: %v, want an internal error reply", err)
	}
	if _, err := client.Call(t.Context(), bus.VerbSiteSync, nil); !errors.Is(err, bus.ErrCoordinatorUnavailable) {
		t.Errorf("after stop: %v, want ErrCoordinatorUnavailable", err)
	}
}

func TestChecks(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	client, err := bus.NewCheckClient(n.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	spec := uptime.CheckSpec{BlogID: 77, URL: "https://77.example/", Timeout: 5 * time.Second, Keyword: "ok"}
	if _, err := client.Check(t.Context(), "p1", spec); !errors.Is(err, bus.ErrProberUnavailable) {
		t.Fatalf("without a prober: %v, want ErrProberUnavailable", err)
	}
	srv, err := bus.NewCheckServer(n.Conn(t), bus.CheckServerOpts{})
	if err != nil {
		t.Fatal(err)
	}
	checkedAt := time.Now().UTC().Truncate(time.Millisecond)
	run(t, func(ctx context.Context) error {
		return srv.ServeChecks(ctx, "p1", func(_ context.Context, s uptime.CheckSpec) uptime.Result {
			return uptime.Result{BlogID: s.BlogID, URL: s.URL, Method: "GET", Success: s.Keyword == "ok", HTTPCode: 200,
				RTT: s.Timeout / 100, CheckedAt: checkedAt}
		})
	})
	var got uptime.Result
	eventually(t, 2*time.Second, "check answered", func() error {
		got, err = client.Check(t.Context(), "p1", spec)
		return err
	})
	want := uptime.Result{BlogID: 77, URL: "https://77.example/", Method: "GET", Success: true, HTTPCode: 200,
		RTT: 50 * time.Millisecond, CheckedAt: checkedAt}
	if got != want {
		t.Errorf("Check = %+v, want %+v", got, want)
	}
	// Another prober's subject has no responder.
	if _, err := client.Check(t.Context(), "p2", spec); !errors.Is(err, bus.ErrProberUnavailable) {
		t.Errorf("other prober: %v, want ErrProberUnavailable", err)
	}
	// A request the prober cannot decode.
	nc := n.Conn(t)
	msg, err := nc.Request(bus.ProberCheckSubject("p1"), []byte(`{"v":1}`), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bus.DecodeCheckReply(msg.Data); err == nil {
		t.Error("bad request answered without error")
	} else if ce, ok := errors.AsType[*bus.CommandError](err); !ok || ce.Code != bus.CodeBadRequest {
		t.Errorf("bad request: %v, want code bad_request", err)
	}
}

// TestCommandOnClosedConnection: a node whose own connection is down gets
// ErrCoordinatorUnavailable, not a failure of the command: nobody saw it.
func TestCommandOnClosedConnection(t *testing.T) {
	t.Parallel()
	n := testenv.StartNATS(t)
	nc := n.Conn(t)
	client, err := bus.NewCommandClient(nc)
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	if _, err := client.Call(t.Context(), bus.VerbSiteSync, nil); !errors.Is(err, bus.ErrCoordinatorUnavailable) {
		t.Errorf("on a closed connection: %v, want ErrCoordinatorUnavailable", err)
	}
}
