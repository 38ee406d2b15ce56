package deliverer

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Attempt outcomes (jetmon_delivery_attempts.outcome and the outcome label
// of jetmon_delivery_attempts_total).
const (
	OutcomeDelivered   = "delivered"
	OutcomeRetry       = "retry"
	OutcomeAbandoned   = "abandoned"
	OutcomeRateLimited = "rate_limited"
	OutcomeDeferred    = "deferred"
)

// settle is how a handler settles its message.
type settle int

const (
	settleAck  settle = iota + 1 // done: delete the message
	settleNak                    // redeliver after the verdict's delay
	settleTerm                   // give up: delete the message
)

// verdict is what one send's result means for its delivery.
type verdict struct {
	outcome string
	status  uptime.DeliveryStatus
	delay   time.Duration // until the next attempt (retry, deferred)
	refund  bool          // the attempt does not count against the budget
	settle  settle
}

// judge maps a send's error to the delivery's fate. attempt is the number
// of the attempt that just ran (1-based); schedule[i] is the wait after the
// failure of attempt i+1, so a delivery gets 1+len(schedule) attempts.
//   - nil: delivered.
//   - *uptime.PermanentError: abandoned at once.
//   - *uptime.DeferredError: tried again after RetryAfter without using an
//     attempt (at least a second later, so an open breaker is not polled).
//   - anything else: retried on the schedule, abandoned after its last step.
func judge(err error, attempt int, schedule []time.Duration) verdict {
	var (
		permanent *uptime.PermanentError
		deferred  *uptime.DeferredError
	)
	switch {
	case err == nil:
		return verdict{outcome: OutcomeDelivered, status: uptime.DeliveryDelivered, settle: settleAck}
	case errors.As(err, &permanent):
		return verdict{outcome: OutcomeAbandoned, status: uptime.DeliveryAbandoned, settle: settleTerm}
	case errors.As(err, &deferred):
		return verdict{outcome: OutcomeDeferred, status: uptime.DeliveryPending,
			delay: max(deferred.RetryAfter, time.Second), refund: true, settle: settleNak}
	case attempt >= 1 && attempt <= len(schedule):
		return verdict{outcome: OutcomeRetry, status: uptime.DeliveryPending, delay: schedule[attempt-1], settle: settleNak}
	default:
		return verdict{outcome: OutcomeAbandoned, status: uptime.DeliveryAbandoned, settle: settleTerm}
	}
}

// storeRetryDelay is how long a message waits after a store error on its
// delivered-th delivery: 2 s doubling to 10 min, so a MySQL outage of about
// two hours passes before a message with MaxDeliver 20 runs out.
func storeRetryDelay(delivered int) time.Duration {
	const (
		base = 2 * time.Second
		top  = 10 * time.Minute
	)
	d := base
	for i := 1; i < delivered && d < top; i++ {
		d *= 2
	}
	return min(d, top)
}

// clip returns s as valid UTF-8 of at most n bytes, cut at a rune boundary.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// maxErrorBytes bounds jetmon_delivery_attempts.error.
const maxErrorBytes = 1024

// lastResponse is what a failed attempt leaves in last_response: the
// receiver's answer, or the transport error when nothing answered (the
// note of a delivery abandoned unsent, the store error of one released
// before its send).
func lastResponse(res uptime.SendResult, err error) string {
	var (
		ab *abandonError
		se *storeError
	)
	switch {
	case errors.As(err, &ab):
		return clip(ab.note, uptime.MaxResponseBytes)
	case errors.As(err, &se):
		return clip("store: "+se.Error(), uptime.MaxResponseBytes)
	}
	if res.Response != "" || err == nil {
		return clip(res.Response, uptime.MaxResponseBytes)
	}
	return clip("transport: "+err.Error(), uptime.MaxResponseBytes)
}

// errorText is an attempt's error column.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return clip(err.Error(), maxErrorBytes)
}

// termReason is the reason given to Term for an abandoned delivery.
func termReason(id int64, attempt int, why string) string {
	return fmt.Sprintf("delivery %d abandoned after attempt %d: %s", id, attempt, why)
}
