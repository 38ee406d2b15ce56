package coordinator

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// verbSiteSync is the command that runs a site sync now (bus.VerbSiteSync).
const verbSiteSync = "site.sync"

// siteSyncOverlap re-reads rows updated shortly before the watermark: rows
// committed out of updated_at order, and clock steps, are not missed.
const siteSyncOverlap = 2 * time.Second

// syncRequest asks the site sync loop to sync now; the loop answers on reply
// (buffered).
type syncRequest struct{ reply chan syncReply }

type syncReply struct {
	writes int
	err    error
}

// siteSyncResponse is the site.sync command's reply.
type siteSyncResponse struct {
	OK     bool `json:"ok"`
	Synced int  `json:"synced"` // keys written or deleted
}

// runSiteSync mirrors the rollout range's active sites into JETMON_SITES for
// one term: a full sync at once and every SiteFullSync, an incremental one
// every SiteSyncInterval and on each request. It returns nil when ctx ends.
func (c *Coordinator) runSiteSync(ctx context.Context, requests <-chan syncRequest) error {
	s := &siteSync{c: c, index: make(map[int64]siteEntry)}
	_, _ = s.sync(ctx) // counted and logged inside; retried on the next tick
	ticker := time.NewTicker(c.opts.SiteSyncInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			_, _ = s.sync(ctx)
		case req := <-requests:
			n, err := s.sync(ctx)
			req.reply <- syncReply{writes: n, err: err}
		}
	}
}

// siteSyncHandler answers site.sync by asking the term's sync loop (which
// owns the index) to sync now. done is the term's end.
func siteSyncHandler(done <-chan struct{}, requests chan<- syncRequest) CommandHandler {
	return func(ctx context.Context, _ []byte) ([]byte, error) {
		req := syncRequest{reply: make(chan syncReply, 1)}
		select {
		case requests <- req:
		case <-done:
			return nil, errTermOver
		case <-ctx.Done():
			return nil, fmt.Errorf("site sync: %w", ctx.Err())
		}
		select {
		case rep := <-req.reply:
			if rep.err != nil {
				return nil, fmt.Errorf("site sync: %w", rep.err)
			}
			return json.Marshal(siteSyncResponse{OK: true, Synced: rep.writes})
		case <-ctx.Done():
			return nil, fmt.Errorf("site sync: %w", ctx.Err())
		}
	}
}

// siteEntry is what the index remembers of a mirrored site.
type siteEntry struct {
	bucket int
	hash   uint64 // of the mirrored value; 0 when it could not be hashed
}

// siteSync is one term's mirror state: the index of what it wrote, keyed by
// blog id, and the updated_at watermark of incremental syncs.
type siteSync struct {
	c         *Coordinator
	index     map[int64]siteEntry
	watermark time.Time
	lastFull  time.Time
	synced    bool // a full sync succeeded this term
}

// sync runs a full sync when none has succeeded yet this term or the last
// is SiteFullSync old, else an incremental one. It returns the keys written
// or deleted; failures are counted and logged here.
func (s *siteSync) sync(ctx context.Context) (int, error) {
	kind, run := syncIncremental, s.incremental
	if !s.synced || s.c.opts.Now().Sub(s.lastFull) >= s.c.opts.SiteFullSync {
		kind, run = syncFull, s.full
	}
	start := time.Now()
	n, err := run(ctx)
	s.c.m.siteSync.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	s.c.m.sitesMirrored.Set(float64(len(s.index)))
	if err != nil && ctx.Err() == nil {
		s.c.m.siteSyncErrors.WithLabelValues(kind).Inc()
		s.c.log.Warn("site sync", "kind", kind, "err", err)
	}
	return n, err
}

// full writes every active site of the rollout range whose value the index
// does not know, and deletes every key that is not one of them.
func (s *siteSync) full(ctx context.Context) (int, error) {
	started := s.c.opts.Now()
	sites, err := s.c.opts.SiteSource.ActiveSites(ctx, s.c.opts.RolloutRange)
	if err != nil {
		return 0, fmt.Errorf("list active sites: %w", err)
	}
	keys, err := s.c.opts.SiteMirror.Keys(ctx)
	if err != nil {
		return 0, fmt.Errorf("list site keys: %w", err)
	}
	wanted, newest, n, err := s.putAll(ctx, sites, keys)
	if err != nil {
		return n, err
	}
	for _, k := range keys {
		if wanted[k] {
			continue
		}
		if err := s.c.opts.SiteMirror.Delete(ctx, k); err != nil {
			return n, fmt.Errorf("delete site %d: %w", k.BlogID, err)
		}
		n++
	}
	for id, e := range s.index {
		if !wanted[SiteKey{Bucket: e.bucket, BlogID: id}] {
			delete(s.index, id)
		}
	}
	// Pages are separate statements: a row changed on an early page during a
	// long full sync is only caught if the watermark stays at or before the
	// sync's start.
	if newest.IsZero() || newest.After(started) {
		newest = started
	}
	s.watermark = later(s.watermark, newest)
	s.lastFull, s.synced = started, true
	return n, nil
}

// putAll puts the sites of the rollout range that are not in keys or not in
// the index as they are. It returns their keys, their newest updated_at and
// the number of puts.
func (s *siteSync) putAll(ctx context.Context, sites []uptime.Site, keys []SiteKey) (map[SiteKey]bool, time.Time, int, error) {
	present := make(map[SiteKey]bool, len(keys))
	for _, k := range keys {
		present[k] = true
	}
	wanted := make(map[SiteKey]bool, len(sites))
	var newest time.Time
	n := 0
	for _, site := range sites {
		if !s.c.opts.RolloutRange.Contains(site.Bucket) {
			continue
		}
		k := SiteKey{Bucket: site.Bucket, BlogID: site.BlogID}
		wanted[k] = true
		newest = later(newest, site.UpdatedAt)
		e := entryOf(site)
		if old, ok := s.index[site.BlogID]; ok && old == e && e.hash != 0 && present[k] {
			continue
		}
		if err := s.c.opts.SiteMirror.Put(ctx, site); err != nil {
			return wanted, newest, n, fmt.Errorf("put site %d: %w", site.BlogID, err)
		}
		s.index[site.BlogID] = e
		n++
	}
	return wanted, newest, n, nil
}

// incremental applies every row changed since the watermark (less the
// overlap), oldest first, advancing the watermark row by row so a failure
// resumes where it stopped.
func (s *siteSync) incremental(ctx context.Context) (int, error) {
	changes, err := s.c.opts.SiteSource.ChangedSince(ctx, s.watermark.Add(-siteSyncOverlap))
	if err != nil {
		return 0, fmt.Errorf("list changed sites: %w", err)
	}
	n := 0
	for _, ch := range changes {
		m, err := s.apply(ctx, ch)
		n += m
		if err != nil {
			return n, err
		}
		s.watermark = later(s.watermark, ch.Site.UpdatedAt)
	}
	return n, nil
}

// apply mirrors one changed row: an active site of the rollout range is put
// (and its old key deleted when its bucket changed); any other row's key is
// deleted. Rows the index already holds unchanged write nothing.
func (s *siteSync) apply(ctx context.Context, ch SiteChange) (int, error) {
	site := ch.Site
	old, had := s.index[site.BlogID]
	if !ch.Active || !s.c.opts.RolloutRange.Contains(site.Bucket) {
		if !had {
			return 0, nil
		}
		if err := s.c.opts.SiteMirror.Delete(ctx, SiteKey{Bucket: old.bucket, BlogID: site.BlogID}); err != nil {
			return 0, fmt.Errorf("delete site %d: %w", site.BlogID, err)
		}
		delete(s.index, site.BlogID)
		return 1, nil
	}
	e := entryOf(site)
	if had && old == e && e.hash != 0 {
		return 0, nil
	}
	if err := s.c.opts.SiteMirror.Put(ctx, site); err != nil {
		return 0, fmt.Errorf("put site %d: %w", site.BlogID, err)
	}
	n := 1
	if had && old.bucket != site.Bucket {
		// Put first: the new bucket's prober has the site before the old
		// one drops it. Until the delete succeeds the index keeps the old
		// entry, so the overlap re-read retries both.
		if err := s.c.opts.SiteMirror.Delete(ctx, SiteKey{Bucket: old.bucket, BlogID: site.BlogID}); err != nil {
			return n, fmt.Errorf("delete moved site %d: %w", site.BlogID, err)
		}
		n++
	}
	s.index[site.BlogID] = e
	return n, nil
}

// entryOf hashes everything a prober uses of site; updated_at alone changing
// rewrites nothing.
func entryOf(site uptime.Site) siteEntry {
	site.UpdatedAt = time.Time{}
	b, err := json.Marshal(site)
	if err != nil { // a time outside years 0..9999: never treat as unchanged
		return siteEntry{bucket: site.Bucket}
	}
	h := fnv.New64a()
	_, _ = h.Write(b) // never fails
	return siteEntry{bucket: site.Bucket, hash: h.Sum64() | 1}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
