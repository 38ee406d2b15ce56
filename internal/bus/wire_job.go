package bus

import (
	"encoding/json"
	"fmt"
)

// Job is one delivery's work item on JobSubject(Kind, DestinationID). It
// carries ids only: the jetmon_deliveries row is the truth (payload,
// status, attempts), so a stale or duplicate job can never send anything
// the row does not allow.
type Job struct {
	DeliveryID    int64  // jetmon_deliveries.id
	Kind          string // "webhook", "alert" or "wpcom" (uptime.DeliveryKind)
	DestinationID int64  // jetmon_webhooks.id, jetmon_alert_contacts.id, or 0 for wpcom
	TransitionID  int64  // the transition the delivery announces
	// Generation is jetmon_deliveries.generation: a manual retry bumps it,
	// so its job gets a new Nats-Msg-Id (JobMsgID).
	Generation int
}

// jobWire is a job message.
type jobWire struct {
	V             int    `json:"v"`
	DeliveryID    int64  `json:"delivery_id"`
	Kind          string `json:"kind"`
	DestinationID int64  `json:"destination_id"`
	TransitionID  int64  `json:"transition_id"`
	Generation    int    `json:"generation"`
}

// jobDecodeWire is jobWire with pointers where a missing field must be
// told from a zero one.
type jobDecodeWire struct {
	V             int    `json:"v"`
	DeliveryID    int64  `json:"delivery_id"`
	Kind          string `json:"kind"`
	DestinationID *int64 `json:"destination_id"`
	TransitionID  int64  `json:"transition_id"`
	Generation    *int   `json:"generation"`
}

const kindJob = "job"

// jobKind reports whether kind has a dispatch consumer.
func jobKind(kind string) bool {
	switch kind {
	case ConsumerWebhook, ConsumerAlert, ConsumerWPCOM:
		return true
	default:
		return false
	}
}

// problem is what makes j invalid, or "".
func (j Job) problem() string {
	switch {
	case !jobKind(j.Kind):
		return fmt.Sprintf("field \"kind\": %q is not webhook, alert or wpcom", j.Kind)
	case j.DeliveryID <= 0:
		return fmt.Sprintf("field \"delivery_id\": %d must be > 0", j.DeliveryID)
	case j.TransitionID <= 0:
		return fmt.Sprintf("field \"transition_id\": %d must be > 0", j.TransitionID)
	case j.DestinationID < 0:
		return fmt.Sprintf("field \"destination_id\": %d < 0", j.DestinationID)
	case j.Generation < 0:
		return fmt.Sprintf("field \"generation\": %d < 0", j.Generation)
	default:
		return ""
	}
}

// EncodeJob encodes j. An invalid job (unknown kind, delivery or transition
// id not positive, negative destination or generation) is an error
// wrapping ErrMalformed.
func EncodeJob(j Job) ([]byte, error) {
	if p := j.problem(); p != "" {
		return nil, fmt.Errorf("encode job: %w: %s", ErrMalformed, p)
	}
	b, err := json.Marshal(jobWire{V: WireVersion, DeliveryID: j.DeliveryID, Kind: j.Kind,
		DestinationID: j.DestinationID, TransitionID: j.TransitionID, Generation: j.Generation})
	if err != nil {
		return nil, fmt.Errorf("encode job %d: %w", j.DeliveryID, err)
	}
	return b, nil
}

// DecodeJob decodes a job message. Required: v, delivery_id, kind,
// destination_id, transition_id and generation, with the values EncodeJob
// accepts.
func DecodeJob(data []byte) (Job, error) {
	var w jobDecodeWire
	if err := unmarshal(kindJob, data, &w, &w.V); err != nil {
		return Job{}, err
	}
	switch {
	case w.DestinationID == nil:
		return Job{}, malformed(kindJob, "missing field %q", "destination_id")
	case w.Generation == nil:
		return Job{}, malformed(kindJob, "missing field %q", "generation")
	}
	j := Job{DeliveryID: w.DeliveryID, Kind: w.Kind, DestinationID: *w.DestinationID,
		TransitionID: w.TransitionID, Generation: *w.Generation}
	if p := j.problem(); p != "" {
		return Job{}, malformed(kindJob, "%s", p)
	}
	return j, nil
}
