package wpcom

import (
	"context"
	"errors"

	"github.com/sony/gobreaker/v2"
)

// State is the breaker's state, for a metric or a status page.
type State string

// Breaker states.
const (
	StateClosed   State = "closed"    // sending
	StateHalfOpen State = "half-open" // one probe request decides
	StateOpen     State = "open"      // not sending: every notification is deferred
)

func stateOf(s gobreaker.State) State {
	switch s {
	case gobreaker.StateClosed:
		return StateClosed
	case gobreaker.StateHalfOpen:
		return StateHalfOpen
	default:
		return StateOpen
	}
}

// settings is the breaker of o: it opens after FailureThreshold
// consecutive failures (Interval 0: closed-state counts are cleared only by
// a success or a transition), half-opens after OpenTimeout, lets one probe
// through, and closes on the probe's success. A cancelled context (the
// caller giving up, e.g. at shutdown) counts neither way.
func (n *Notifier) settings(o Opts) gobreaker.Settings {
	log := o.Logger.With("component", "wpcom")
	threshold := uint32(o.FailureThreshold) // validated non-negative
	return gobreaker.Settings{
		Name:        "wpcom",
		MaxRequests: 1,
		Timeout:     o.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= threshold },
		IsExcluded:  func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				n.mu.Lock()
				n.openedAt = n.now()
				n.mu.Unlock()
				log.Warn("wpcom circuit breaker opened: notifications wait in the queue", "from", from.String(),
					"retry_in", o.OpenTimeout)
			} else {
				log.Info("wpcom circuit breaker "+to.String(), "from", from.String())
			}
			if o.OnStateChange != nil {
				o.OnStateChange(stateOf(from), stateOf(to))
			}
		},
	}
}
