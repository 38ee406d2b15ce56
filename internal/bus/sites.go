package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// SiteRef identifies one site key of KV JETMON_SITES (<bucket>.<blog_id>).
type SiteRef struct {
	Bucket int
	BlogID int64
}

// SiteMirror is the leader's writer of KV JETMON_SITES.
type SiteMirror struct {
	kv *kvHandle
}

// NewSiteMirror returns a SiteMirror; it does no I/O.
func NewSiteMirror(js jetstream.JetStream) (*SiteMirror, error) {
	if js == nil {
		return nil, errors.New("site mirror: jetstream is required")
	}
	return &SiteMirror{kv: &kvHandle{js: js, bucket: KVSites}}, nil
}

// Keys lists every site key, read through a watch of key names only. Keys
// that are not <bucket>.<blog_id> are left out.
func (m *SiteMirror) Keys(ctx context.Context) ([]SiteRef, error) {
	kv, err := m.kv.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("site keys: %w", err)
	}
	entries, err := listEntries(ctx, kv, true)
	if err != nil {
		return nil, fmt.Errorf("site keys: %w", err)
	}
	refs := make([]SiteRef, 0, len(entries))
	for _, e := range entries {
		if b, id, err := ParseSiteKey(e.Key()); err == nil {
			refs = append(refs, SiteRef{Bucket: b, BlogID: id})
		}
	}
	return refs, nil
}

// Put writes s under <bucket>.<blog_id>.
func (m *SiteMirror) Put(ctx context.Context, s uptime.Site) error {
	if s.BlogID <= 0 || s.Bucket < 0 {
		return fmt.Errorf("put site: blog id %d must be > 0 and bucket %d >= 0", s.BlogID, s.Bucket)
	}
	val, err := EncodeSite(s)
	if err != nil {
		return err
	}
	kv, err := m.kv.get(ctx)
	if err != nil {
		return fmt.Errorf("put site: %w", err)
	}
	if _, err := kv.Put(ctx, SiteKey(s.Bucket, s.BlogID), val); err != nil {
		return fmt.Errorf("put site %d: %w", s.BlogID, err)
	}
	return nil
}

// Delete removes the key of ref.
func (m *SiteMirror) Delete(ctx context.Context, ref SiteRef) error {
	kv, err := m.kv.get(ctx)
	if err != nil {
		return fmt.Errorf("delete site: %w", err)
	}
	if err := kv.Delete(ctx, SiteKey(ref.Bucket, ref.BlogID)); err != nil {
		return fmt.Errorf("delete site %d: %w", ref.BlogID, err)
	}
	return nil
}

// SiteEvent is one change of a watched bucket's sites, as
// prober.SiteEvent. Synced marks the end of the initial snapshot.
type SiteEvent struct {
	Site    uptime.Site // set on upsert
	Bucket  int
	BlogID  int64
	Removed bool
	Synced  bool
}

// DefaultMaxFilters is the default SiteWatcherOpts.MaxFilters.
const DefaultMaxFilters = 256

// siteRelistAfter is how long a sites watch may be down and still resume
// after its last revision: deletes leave markers in JETMON_SITES, so
// resuming sees them; the full listing after longer gaps is a safety net.
const siteRelistAfter = 30 * time.Second

// siteEventBuffer is the sites channel's buffer.
const siteEventBuffer = 256

// SiteWatcherOpts configures a SiteWatcher sending events of type E.
type SiteWatcherOpts[E any] struct {
	// Event converts each SiteEvent to E, so that the channel can be a
	// role's own type (prober.SiteEvent) without a copying goroutine.
	// Optional when E is SiteEvent.
	Event func(SiteEvent) E
	// MaxFilters is the most buckets watched with one filter subject each
	// ("<bucket>.*"); above it the watch covers every key and drops other
	// buckets' sites locally. The server checks a consumer's filters
	// pairwise for overlap, so thousands of filters make every (re)start
	// of the watch slow. Default DefaultMaxFilters.
	MaxFilters int
	Logger     *slog.Logger
}

// SiteWatcher follows the sites of some buckets in KV JETMON_SITES.
type SiteWatcher[E any] struct {
	js jetstream.JetStream
	o  SiteWatcherOpts[E]
}

// NewSiteWatcher validates o; it does no I/O.
func NewSiteWatcher[E any](js jetstream.JetStream, o SiteWatcherOpts[E]) (*SiteWatcher[E], error) {
	if js == nil {
		return nil, errors.New("site watcher: jetstream is required")
	}
	if o.Event == nil {
		if _, ok := any(SiteEvent{}).(E); !ok {
			return nil, errors.New("site watcher: Event is required unless E is SiteEvent")
		}
		o.Event = func(e SiteEvent) E { return any(e).(E) }
	}
	if o.MaxFilters < 0 {
		return nil, fmt.Errorf("site watcher: max filters %d < 0", o.MaxFilters)
	}
	o.MaxFilters = cmpOr(o.MaxFilters, DefaultMaxFilters)
	o.Logger = cmpOr(o.Logger, slog.New(slog.DiscardHandler))
	return &SiteWatcher[E]{js: js, o: o}, nil
}

// WatchBuckets sends every current site of buckets, then an event with
// Synced set, then changes (upserts, and Removed for deleted sites and for
// sites whose value no longer decodes), until ctx ends; then the channel
// closes. Interruptions are healed inside: the watch resumes after its
// last revision, or lists the buckets again and sends Removed for sites
// that vanished meanwhile. Upserts may repeat. Sends block while the
// reader is busy.
func (w *SiteWatcher[E]) WatchBuckets(ctx context.Context, buckets []int) (<-chan E, error) {
	set := make(map[int]bool, len(buckets))
	for _, b := range buckets {
		if b < 0 {
			return nil, fmt.Errorf("watch buckets: bucket %d < 0", b)
		}
		set[b] = true
	}
	out := make(chan E, siteEventBuffer)
	h := &siteStream[E]{out: out, event: w.o.Event, known: map[string]SiteRef{}, logger: w.o.Logger}
	kw := kvWatch{js: w.js, bucket: KVSites, relistAfter: siteRelistAfter, logger: w.o.Logger}
	if len(set) > w.o.MaxFilters {
		h.only = set // watch every key, filter here
	} else {
		for _, b := range slices.Sorted(maps.Keys(set)) {
			kw.filters = append(kw.filters, BucketFilter(b))
		}
	}
	go func() {
		defer close(out)
		if len(set) == 0 {
			if h.synced(ctx) == nil {
				<-ctx.Done()
			}
			return
		}
		kw.run(ctx, h)
	}()
	return out, nil
}

// siteStream is the watchHandler of WatchBuckets.
type siteStream[E any] struct {
	out        chan<- E
	event      func(SiteEvent) E
	only       map[int]bool        // non-nil: drop other buckets' keys
	known      map[string]SiteRef  // keys sent as present, not yet removed
	seen       map[string]struct{} // keys of a running full listing
	syncedOnce bool
	logger     *slog.Logger
}

func (s *siteStream[E]) begin(full bool) {
	s.seen = nil
	if full {
		s.seen = map[string]struct{}{}
	}
}

func (s *siteStream[E]) entry(ctx context.Context, e jetstream.KeyValueEntry) error {
	bucket, id, err := ParseSiteKey(e.Key())
	if err != nil || (s.only != nil && !s.only[bucket]) {
		return nil
	}
	if isDeletion(e) {
		return s.remove(ctx, e.Key())
	}
	site, err := DecodeSite(e.Value())
	if err == nil && (site.Bucket != bucket || site.BlogID != id) {
		err = fmt.Errorf("value is site %d in bucket %d", site.BlogID, site.Bucket)
	}
	if err != nil {
		s.logger.Warn("site watcher: bad site value", "key", e.Key(), "err", err)
		return s.remove(ctx, e.Key())
	}
	s.known[e.Key()] = SiteRef{Bucket: bucket, BlogID: id}
	if s.seen != nil {
		s.seen[e.Key()] = struct{}{}
	}
	return s.send(ctx, SiteEvent{Site: site, Bucket: bucket, BlogID: id})
}

func (s *siteStream[E]) synced(ctx context.Context) error {
	if s.seen != nil {
		for key := range s.known {
			if _, ok := s.seen[key]; !ok {
				if err := s.remove(ctx, key); err != nil {
					return err
				}
			}
		}
		s.seen = nil
	}
	if s.syncedOnce {
		return nil
	}
	s.syncedOnce = true
	return s.send(ctx, SiteEvent{Synced: true})
}

// remove sends Removed for key if it was sent as present.
func (s *siteStream[E]) remove(ctx context.Context, key string) error {
	ref, ok := s.known[key]
	if !ok {
		return nil
	}
	delete(s.known, key)
	return s.send(ctx, SiteEvent{Bucket: ref.Bucket, BlogID: ref.BlogID, Removed: true})
}

func (s *siteStream[E]) send(ctx context.Context, ev SiteEvent) error {
	select {
	case s.out <- s.event(ev):
		return nil
	case <-ctx.Done():
		return fmt.Errorf("send site event: %w", context.Cause(ctx))
	}
}
