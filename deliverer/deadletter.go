package deliverer

import (
	"context"
	"fmt"
)

// deadLetter records a message that ran out of deliveries in
// jetmon_dead_letters (once per stream sequence) and, for a job, abandons
// its delivery if still pending at the job's generation. An error makes
// the source offer it again, so it is never dropped unrecorded.
func (r *Deliverer) deadLetter(ctx context.Context, dl DeadLetter) error {
	rec := DeadLetterRecord{
		Stream: dl.Stream, StreamSeq: dl.StreamSeq, Consumer: dl.Consumer, Subject: dl.Subject,
		Deliveries: dl.Deliveries, Reason: clip(deadLetterReason(dl), maxErrorBytes), Header: dl.Header,
		Payload: dl.Data, PublishedAt: dl.At, Now: r.opts.Now(),
		AbandonNote: fmt.Sprintf("dead letter: %d deliveries", dl.Deliveries),
	}
	var job Job
	if dl.Consumer != ConsumerFanOut && dl.Data != nil {
		if j, err := r.opts.DecodeJob(dl.Data); err == nil {
			job = j
			rec.DeliveryID, rec.Generation = j.DeliveryID, j.Generation
		}
	}
	inserted, abandoned, err := r.opts.DeadLetterDB.RecordDeadLetter(ctx, rec)
	if err != nil {
		return fmt.Errorf("record dead letter %s/%d: %w", dl.Stream, dl.StreamSeq, err)
	}
	if inserted {
		r.m.deadLetters.WithLabelValues(dl.Consumer).Inc()
		r.log.Warn("dead letter recorded", "consumer", dl.Consumer, "stream_seq", dl.StreamSeq,
			"deliveries", dl.Deliveries, "delivery_id", rec.DeliveryID, "subject", dl.Subject)
	}
	if abandoned {
		r.m.abandoned.WithLabelValues(string(job.Kind)).Inc()
	}
	return nil
}

// deadLetterReason describes a dead letter for its row.
func deadLetterReason(dl DeadLetter) string {
	reason := dl.Reason
	if reason == "" {
		reason = fmt.Sprintf("max deliveries reached (%d)", dl.Deliveries)
	}
	if dl.Data == nil {
		reason += "; the original message was already gone"
	}
	return reason
}
