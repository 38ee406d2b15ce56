package incident

import (
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// Input is one thing that happened to a site: CheckInput,
// VerificationInput, CloseInput or TriggerInput. The set is closed.
type Input interface{ input() }

// CheckInput is a prober's result, with the site as the coordinator knows it
// (maintenance window, cooldown override).
type CheckInput struct {
	Result uptime.ProbeResult
	Site   uptime.Site
}

// VerificationInput is the outcome of a RequestVerification: the votes that
// arrived before its deadline (none when nobody answered). The caller must
// feed one back for every request, or the site never asks again. The blog is
// Site.BlogID (zero: the state's).
type VerificationInput struct {
	// StartedAt identifies the Seems Down event asked about
	// (RequestVerification.StartedAt).
	StartedAt time.Time
	Votes     []uptime.Vote
	Site      uptime.Site
}

// CloseInput is an operator's close command (event.close, site.pause,
// site.delete). The blog is Site.BlogID (zero: the state's); the site's
// maintenance window decides the notifications.
type CloseInput struct {
	// CheckType is the event to close; empty closes every open event of the
	// site. No open event is an idempotent success with no changes.
	CheckType string
	// EventID, when not zero, closes only the open event with this id: when
	// the event asked about has closed and another of its identity opened
	// since, the newer one stays open and nothing changes. The caller must
	// know the open events' ids (Restore keeps the store's).
	EventID int64
	// Reason defaults to manual_override.
	Reason uptime.Reason
	// Source is the transitions' source, e.g. "operator:<actor>"; default
	// "operator".
	Source string
	// Note goes into the transitions' metadata as "note" when not empty.
	Note string
	Site uptime.Site
}

// TriggerInput is the result of a check an operator asked for (site.trigger).
// A success closes every open event of the site, advisories included, with
// probe_cleared; a failure changes nothing (Jetmon: trigger-now never opens).
// Like any result it is ignored when not newer than the last one accepted; a
// result fed as TriggerInput must not also be fed as CheckInput.
type TriggerInput struct {
	Result uptime.ProbeResult
	Site   uptime.Site
	// Source is the transitions' source, e.g. "operator:<actor>"; default
	// "operator".
	Source string
}

func (CheckInput) input()        {}
func (VerificationInput) input() {}
func (CloseInput) input()        {}
func (TriggerInput) input()      {}

// Effect is something the caller must do after committing the changes of the
// same decision: RequestVerification or RecordFalsePositive. The set is
// closed.
type Effect interface{ effect() }

// RequestVerification asks verifliers of every live region other than
// Result.Region to check the site; the outcome comes back as a
// VerificationInput with the same StartedAt.
type RequestVerification struct {
	BlogID int64
	// StartedAt is the started_at of the Seems Down event asked about.
	StartedAt time.Time
	// Result is the local failure that asked.
	Result uptime.ProbeResult
}

// RecordFalsePositive writes a jetmon_false_positives row for the event the
// same decision closed as false_alarm (EventID is left for the store).
type RecordFalsePositive struct {
	uptime.FalsePositive
}

func (RequestVerification) effect() {}
func (RecordFalsePositive) effect() {}
