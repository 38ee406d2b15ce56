package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// ResultPublisherOpts configures a ResultPublisher.
type ResultPublisherOpts struct {
	Region string // the prober's region: the subject's region token
	NodeID string
}

// ResultPublisher stores probe results on JETMON_RESULTS.
type ResultPublisher struct {
	js jetstream.JetStream
	o  ResultPublisherOpts
}

// NewResultPublisher validates o; it does no I/O.
func NewResultPublisher(js jetstream.JetStream, o ResultPublisherOpts) (*ResultPublisher, error) {
	if js == nil {
		return nil, errors.New("result publisher: jetstream is required")
	}
	if !keyToken.MatchString(o.Region) || !keyToken.MatchString(o.NodeID) {
		return nil, fmt.Errorf("result publisher: region %q and node id %q must match %s", o.Region, o.NodeID, keyToken)
	}
	return &ResultPublisher{js: js, o: o}, nil
}

// Publish stores r on ResultSubject(region, bucket) with Nats-Msg-Id
// ResultMsgID, so a retry of the same check within the stream's duplicate
// window is stored once. An empty Region or NodeID in r is filled from the
// publisher; different ones are an error. It returns after the server
// acknowledged the message, or with an error (ctx bounds the wait).
func (p *ResultPublisher) Publish(ctx context.Context, r uptime.ProbeResult) error {
	r.Region = cmpOr(r.Region, p.o.Region)
	r.NodeID = cmpOr(r.NodeID, p.o.NodeID)
	if r.Region != p.o.Region || r.NodeID != p.o.NodeID {
		return fmt.Errorf("publish result: result of %s/%s on publisher %s/%s", r.Region, r.NodeID, p.o.Region, p.o.NodeID)
	}
	data, err := EncodeResult(r)
	if err != nil {
		return err
	}
	id := ResultMsgID(r.NodeID, r.BlogID, r.CheckedAt.UnixNano())
	ack, err := p.js.Publish(ctx, ResultSubject(r.Region, r.Bucket), data,
		jetstream.WithMsgID(id), jetstream.WithExpectStream(StreamResults))
	if err != nil {
		return fmt.Errorf("publish result of %d: %w", r.BlogID, err)
	}
	if ack == nil || ack.Stream != StreamResults || ack.Sequence == 0 {
		return fmt.Errorf("publish result of %d: not stored (ack %+v)", r.BlogID, ack)
	}
	return nil
}

// ResultDelivery is one result fetched from JETMON_RESULTS with its stream
// sequence (stable across redeliveries).
type ResultDelivery struct {
	Seq    uint64
	Result uptime.ProbeResult
}

// ResultBatch is what one Fetch returned. Ack it after the batch is
// committed; call InProgress while a commit is being retried so that the
// server does not redeliver it.
type ResultBatch struct {
	Deliveries []ResultDelivery
	msgs       []jetstream.Msg
}

// Ack acknowledges every message of the batch. The last ack waits for the
// server's confirmation, which also confirms the earlier ones (acks of one
// connection are processed in order).
func (b ResultBatch) Ack(ctx context.Context) error {
	if len(b.msgs) == 0 {
		return nil
	}
	var errs []error
	for _, m := range b.msgs[:len(b.msgs)-1] {
		if err := m.Ack(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := b.msgs[len(b.msgs)-1].DoubleAck(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ack results: %w", err)
	}
	return nil
}

// InProgress resets the ack timer of every message of the batch.
func (b ResultBatch) InProgress() error {
	var errs []error
	for _, m := range b.msgs {
		if err := m.InProgress(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("extend results: %w", err)
	}
	return nil
}

// ResultConsumerOpts configures a ResultConsumer.
type ResultConsumerOpts struct {
	Consumer string // durable name; default ConsumerCoordinator
	// OnMalformed is called for every message that is not a valid result
	// (it has been terminated); for a counter. Optional; called from the
	// Fetch caller's goroutine.
	OnMalformed func(seq uint64, err error)
	Logger      *slog.Logger
}

// ResultConsumer fetches results from a durable pull consumer of
// JETMON_RESULTS. The consumer must exist (EnsureAssets).
type ResultConsumer struct {
	js jetstream.JetStream
	o  ResultConsumerOpts

	mu   sync.Mutex
	cons jetstream.Consumer

	noRewind sync.Once // warns once that the server cannot rewind
}

// NewResultConsumer validates o; it does no I/O.
func NewResultConsumer(js jetstream.JetStream, o ResultConsumerOpts) (*ResultConsumer, error) {
	if js == nil {
		return nil, errors.New("result consumer: jetstream is required")
	}
	o.Consumer = cmpOr(o.Consumer, ConsumerCoordinator)
	if o.OnMalformed == nil {
		o.OnMalformed = func(uint64, error) {}
	}
	o.Logger = cmpOr(o.Logger, slog.New(slog.DiscardHandler))
	return &ResultConsumer{js: js, o: o}, nil
}

// Fetch returns up to batch results, waiting up to wait for the batch to
// fill; an empty batch is not an error. Malformed messages are terminated
// (never redelivered), reported to OnMalformed and left out. The consumer's
// MaxAckPending bounds what can be delivered while earlier batches are
// unacked.
func (c *ResultConsumer) Fetch(ctx context.Context, batch int, wait time.Duration) (ResultBatch, error) {
	if batch <= 0 || wait <= 0 {
		return ResultBatch{}, fmt.Errorf("fetch results: batch %d and wait %v must be > 0", batch, wait)
	}
	cons, err := c.consumer(ctx)
	if err != nil {
		return ResultBatch{}, err
	}
	fctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	fetched, err := cons.Fetch(batch, jetstream.FetchContext(fctx))
	if err != nil {
		return ResultBatch{}, c.fetchError(err)
	}
	var b ResultBatch
	for m := range fetched.Messages() {
		if d, ok := c.decode(m); ok {
			b.Deliveries = append(b.Deliveries, d)
			b.msgs = append(b.msgs, m)
		}
	}
	if ctx.Err() != nil {
		return ResultBatch{}, fmt.Errorf("fetch results: %w", context.Cause(ctx))
	}
	if err := fetched.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return b, c.fetchError(err)
	}
	return b, nil
}

// Rewind resets the consumer to deliver again from its ack floor + 1:
// every delivered but unacknowledged result is redelivered at once, in
// stream order, instead of after its ack deadline. A server older than
// nats-server 2.14 has no consumer reset: Rewind then warns once and does
// nothing.
func (c *ResultConsumer) Rewind(ctx context.Context) error {
	if v := c.js.Conn().ConnectedServerVersion(); !serverAtLeast(v, 2, 14) {
		c.noRewind.Do(func() {
			c.o.Logger.Warn("results: nats-server cannot rewind the coordinator consumer (needs 2.14); "+
				"results a dead leader had fetched may be skipped", "server_version", v)
		})
		return nil
	}
	if _, err := c.js.ResetConsumer(ctx, StreamResults, c.o.Consumer); err != nil {
		return fmt.Errorf("rewind results consumer %s: %w", c.o.Consumer, err)
	}
	return nil
}

// serverAtLeast reports whether server version v ("2.14.0", "2.15.0-RC.1")
// is major.minor or newer. An unknown version (not connected) counts as
// new enough: the caller's request then fails and is retried.
func serverAtLeast(v string, major, minor int) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return true
	}
	gotMajor, err1 := strconv.Atoi(parts[0])
	gotMinor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return true
	}
	return gotMajor > major || (gotMajor == major && gotMinor >= minor)
}

// consumer looks the consumer up once and keeps the handle.
func (c *ResultConsumer) consumer(ctx context.Context) (jetstream.Consumer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cons == nil {
		cons, err := c.js.Consumer(ctx, StreamResults, c.o.Consumer)
		if err != nil {
			return nil, fmt.Errorf("results consumer %s: %w", c.o.Consumer, err)
		}
		c.cons = cons
	}
	return c.cons, nil
}

// fetchError wraps err and forgets the consumer handle when the consumer
// is gone, so that the next Fetch looks it up again.
func (c *ResultConsumer) fetchError(err error) error {
	if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) {
		c.mu.Lock()
		c.cons = nil
		c.mu.Unlock()
	}
	return fmt.Errorf("fetch results: %w", err)
}

// decode turns m into a delivery, or terminates it as malformed.
func (c *ResultConsumer) decode(m jetstream.Msg) (ResultDelivery, bool) {
	md, err := m.Metadata()
	if err != nil {
		c.o.Logger.Warn("results: message without metadata", "err", err)
		return ResultDelivery{}, false
	}
	seq := md.Sequence.Stream
	r, err := DecodeResult(m.Data())
	if err == nil {
		err = checkResultSubject(m.Subject(), r)
	}
	if err != nil {
		if terr := m.TermWithReason(truncate(err.Error(), 200)); terr != nil {
			c.o.Logger.Warn("results: terminate malformed message", "seq", seq, "err", terr)
		}
		c.o.OnMalformed(seq, err)
		return ResultDelivery{}, false
	}
	return ResultDelivery{Seq: seq, Result: r}, true
}

// checkResultSubject rejects a result whose region or bucket differ from
// its subject's: subject permissions vouch for the subject only.
func checkResultSubject(subject string, r uptime.ProbeResult) error {
	rest, ok := strings.CutPrefix(subject, subjectResults+".")
	region, bucket, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || region != r.Region || bucket != strconv.Itoa(r.Bucket) {
		return fmt.Errorf("decode result: %w: subject %s does not match region %q bucket %d", ErrMalformed, subject, r.Region, r.Bucket)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
