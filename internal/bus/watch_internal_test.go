package bus

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/internal/testenv"
)

// recorder is a watchHandler that writes down what it is told.
type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, s)
}

func (r *recorder) begin(full bool) { r.add(fmt.Sprintf("begin full=%v", full)) }

func (r *recorder) entry(_ context.Context, e jetstream.KeyValueEntry) error {
	if isDeletion(e) {
		r.add("del " + e.Key())
	} else {
		r.add("put " + e.Key() + "=" + string(e.Value()))
	}
	return nil
}

func (r *recorder) synced(context.Context) error { r.add("synced"); return nil }

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

// cutWatcher forwards a real watcher's entries until cut, then closes its
// channel as nats.go does when a watch's subscription closes.
type cutWatcher struct {
	ch   chan jetstream.KeyValueEntry
	cut  chan struct{}
	once sync.Once
}

func (c *cutWatcher) Updates() <-chan jetstream.KeyValueEntry { return c.ch }
func (c *cutWatcher) Stop() error                             { c.interrupt(); return nil }
func (c *cutWatcher) interrupt()                              { c.once.Do(func() { close(c.cut) }) }

// interrupter opens watches that wait for a go-ahead and can be cut.
type interrupter struct {
	t       *testing.T
	waiting chan struct{}    // a watch start is waiting
	proceed chan struct{}    // lets one waiting start go on
	current chan *cutWatcher // the watch started last
}

func newInterrupter(t *testing.T) *interrupter {
	return &interrupter{t: t, waiting: make(chan struct{}), proceed: make(chan struct{}), current: make(chan *cutWatcher, 1)}
}

func (in *interrupter) open(ctx context.Context, kv jetstream.KeyValue, filters []string, opts ...jetstream.WatchOpt) (jetstream.KeyWatcher, error) {
	select {
	case in.waiting <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-in.proceed:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	real, err := kv.WatchFiltered(ctx, filters, opts...)
	if err != nil {
		return nil, err
	}
	cw := &cutWatcher{ch: make(chan jetstream.KeyValueEntry), cut: make(chan struct{})}
	go func() {
		defer close(cw.ch)
		defer stopWatch(real)
		for {
			select {
			case <-cw.cut:
				return
			case e, ok := <-real.Updates():
				if !ok {
					return
				}
				select {
				case cw.ch <- e:
				case <-cw.cut:
					return
				}
			}
		}
	}()
	in.current <- cw
	return cw, nil
}

// start lets the next watch start and returns it.
func (in *interrupter) start() *cutWatcher {
	in.t.Helper()
	select {
	case <-in.waiting:
	case <-time.After(5 * time.Second):
		in.t.Fatal("no watch start")
	}
	in.proceed <- struct{}{}
	return <-in.current
}

func waitLog(t *testing.T, r *recorder, n int, what string) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := r.snapshot()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: log %q, want %d lines", what, got, n)
		}
		time.Sleep(10 * time.Millisecond) // polling, not synchronisation
	}
}

// TestKVWatchHealsInterruptions: after the updates channel closes, the
// watch resumes after the last revision (seeing a put and a delete made
// meanwhile, and nothing twice), or lists in full after a long gap.
func TestKVWatchHealsInterruptions(t *testing.T) {
	t.Parallel()
	rows := map[string]struct {
		relistAfter time.Duration
		want        []string
	}{
		"resume": {time.Hour, []string{"begin full=false", "put c=1", "del a", "synced"}},
		"relist": {0, []string{"begin full=true", "put b=1", "put c=1", "del a", "synced"}},
	}
	for name, row := range rows {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			n := testenv.StartNATS(t)
			js, err := jetstream.New(n.Conn(t))
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "W"})
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"a", "b"} {
				if _, err := kv.Put(ctx, k, []byte("1")); err != nil {
					t.Fatal(err)
				}
			}
			in := newInterrupter(t)
			rec := &recorder{}
			wctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				kvWatch{js: js, bucket: "W", relistAfter: row.relistAfter, logger: discard(), open: in.open}.run(wctx, rec)
			}()
			defer func() { cancel(); <-done }()

			first := in.start()
			waitLog(t, rec, 4, "initial values")
			first.interrupt()
			// The next start waits for the go-ahead: change keys meanwhile.
			select {
			case <-in.waiting:
			case <-time.After(5 * time.Second):
				t.Fatal("watch not started again")
			}
			if _, err := kv.Put(ctx, "c", []byte("1")); err != nil {
				t.Fatal(err)
			}
			if err := kv.Delete(ctx, "a"); err != nil {
				t.Fatal(err)
			}
			in.proceed <- struct{}{}
			<-in.current
			got := waitLog(t, rec, 4+len(row.want), "after the interruption")
			if want := []string{"begin full=true", "put a=1", "put b=1", "synced"}; !slices.Equal(got[:4], want) {
				t.Errorf("first watch = %q, want %q", got[:4], want)
			}
			if !slices.Equal(got[4:], row.want) {
				t.Errorf("second watch = %q, want %q", got[4:], row.want)
			}
		})
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
