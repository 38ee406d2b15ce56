package bus

import (
	"fmt"
	"strconv"
)

// Streams, consumers and KV buckets (DESIGN §3). These names are a public
// interface: operators type them into the nats CLI.
const (
	StreamResults     = "JETMON_RESULTS"      // check results, limits retention
	StreamDelivery    = "JETMON_DELIVERY"     // notification work queue
	StreamDeadLetters = "JETMON_DEAD_LETTERS" // max-deliveries advisories of StreamDelivery

	ConsumerCoordinator = "coordinator" // durable pull consumer of StreamResults

	// Durable pull consumers of StreamDelivery, one per subject filter:
	// fan-out of transitions, and dispatch of jobs per delivery kind (the
	// kind names of uptime.DeliveryKind).
	ConsumerFanout  = "fanout"  // SubjectDeliverTransition
	ConsumerWebhook = "webhook" // jetmon.deliver.webhook.>
	ConsumerAlert   = "alert"   // jetmon.deliver.alert.>
	ConsumerWPCOM   = "wpcom"   // jetmon.deliver.wpcom.>

	// ConsumerDeadLetters is the durable pull consumer of StreamDeadLetters
	// (DeadLetterMover).
	ConsumerDeadLetters = "dead-letters"

	KVSites       = "JETMON_SITES"       // <bucket>.<blog_id> -> Site
	KVAssignments = "JETMON_ASSIGNMENTS" // <node_id> -> Assignment
	KVNodes       = "JETMON_NODES"       // <role>.<node_id> -> Node, TTL NODE_TTL_SEC
	KVLeader      = "JETMON_LEADER"      // LeaderKey -> Leader, TTL LEADER_TTL_SEC

	LeaderKey = "coordinator"
)

// Subject roots.
const (
	subjectResults     = "jetmon.results"
	subjectVerify      = "jetmon.verify"
	subjectCoordinator = "jetmon.cmd.coordinator"
	subjectProber      = "jetmon.cmd.prober"
	subjectDeliver     = "jetmon.deliver"

	// SubjectResultsAll matches every result subject (the stream's subjects).
	SubjectResultsAll = subjectResults + ".>"
	// SubjectDeliverAll matches every delivery subject.
	SubjectDeliverAll = subjectDeliver + ".>"
	// SubjectDeliverTransition carries every committed incident transition
	// from the coordinator's outbox relay to the deliverers.
	SubjectDeliverTransition = subjectDeliver + ".transition"

	// SubjectDeadLetterAdvisories matches the server's max-deliveries
	// advisories of every StreamDelivery consumer
	// ($JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<consumer>): the
	// subjects of StreamDeadLetters.
	SubjectDeadLetterAdvisories = subjectMaxDeliveries + "." + StreamDelivery + ".>"
	subjectMaxDeliveries        = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"

	// AdvisoryMaxDeliverType is the "type" of a max-deliveries advisory.
	AdvisoryMaxDeliverType = "io.nats.jetstream.advisory.v1.max_deliver"
)

// Commands the coordinator answers on jetmon.cmd.coordinator.<verb>.
const (
	VerbSiteSync = "site.sync"
	// VerbEventClose closes one or every open event of a site:
	// {"blog_id", "event_id" (optional), "check_type" (empty: all),
	// "reason" (default manual_override), "note", "actor"} ->
	// {"blog_id", "event_id" (when asked), "closed", "already_closed"
	// (true when the event_id had closed before: an idempotent success)}.
	// With event_id only that event closes, and only while it is the open
	// event of its identity; an unknown event_id, or another blog's, is
	// not_found, and a check_type that is not the event's bad_request.
	// site.pause and site.delete read "blog_id", "note" and "actor" the
	// same way.
	VerbEventClose = "event.close"
	// VerbSiteTrigger has the owning prober check a site now:
	// {"blog_id"} -> {"blog_id", "node_id", "region", "closed", "result"}.
	VerbSiteTrigger = "site.trigger"
	// VerbSitePause and VerbSiteDelete close every open event of a site
	// (manual_override, the note in the metadata, the actor in the source)
	// and ignore its results for a minute: {"blog_id", "note", "actor"} ->
	// {"blog_id", "closed"}.
	VerbSitePause  = "site.pause"
	VerbSiteDelete = "site.delete"
)

// ResultSubject is where a prober in region publishes a result of a site in
// bucket: jetmon.results.<region>.<bucket>. The bucket stays in the subject
// so coordinators can later shard by bucket range (DESIGN §10).
func ResultSubject(region string, bucket int) string {
	return subjectResults + "." + region + "." + strconv.Itoa(bucket)
}

// VerifySubject is where verifliers of region answer vote requests.
func VerifySubject(region string) string { return subjectVerify + "." + region }

// verifyQueue is the queue group of region's verifliers: every region's
// group gets one copy of a request and one member answers it.
func verifyQueue(region string) string { return "veriflier-" + region }

// CoordinatorSubject is where the leader answers command verb.
func CoordinatorSubject(verb string) string { return subjectCoordinator + "." + verb }

// ProberCheckSubject is where one prober answers on-demand checks.
func ProberCheckSubject(nodeID string) string { return subjectProber + "." + nodeID + ".check" }

// SiteKey is a site's key in KVSites: <bucket>.<blog_id>.
func SiteKey(bucket int, blogID int64) string {
	return strconv.Itoa(bucket) + "." + strconv.FormatInt(blogID, 10)
}

// ParseSiteKey splits a KVSites key.
func ParseSiteKey(key string) (bucket int, blogID int64, err error) {
	var b, id int64
	if _, err := fmt.Sscanf(key, "%d.%d", &b, &id); err != nil {
		return 0, 0, fmt.Errorf("site key %q: %w", key, err)
	}
	if SiteKey(int(b), id) != key {
		return 0, 0, fmt.Errorf("site key %q: not <bucket>.<blog_id>", key)
	}
	return int(b), id, nil
}

// BucketFilter is the KVSites key filter of one bucket: <bucket>.*.
func BucketFilter(bucket int) string { return strconv.Itoa(bucket) + ".*" }

// NodeKey is a node's presence key in KVNodes: <role>.<node_id>.
func NodeKey(role, nodeID string) string { return role + "." + nodeID }

// ResultMsgID is the Nats-Msg-Id of a result: a retried publish of the same
// check is stored once.
func ResultMsgID(nodeID string, blogID int64, checkedAtUnixNano int64) string {
	return "r-" + nodeID + "-" + strconv.FormatInt(blogID, 10) + "-" + strconv.FormatInt(checkedAtUnixNano, 10)
}

// JobSubject is where the job of one delivery to a destination of kind
// ("webhook", "alert", "wpcom") is published:
// jetmon.deliver.<kind>.<destination_id> (destination 0 for wpcom).
func JobSubject(kind string, destinationID int64) string {
	return subjectDeliver + "." + kind + "." + strconv.FormatInt(destinationID, 10)
}

// jobFilter is the subject filter of the dispatch consumer of kind:
// jetmon.deliver.<kind>.>.
func jobFilter(kind string) string { return subjectDeliver + "." + kind + ".>" }

// JobMsgID is the Nats-Msg-Id of a delivery's job: "delivery-<id>-<generation>".
// A fan-out that publishes the job again (a redelivered transition) is
// stored once within the stream's duplicate window; a manual retry bumps
// the generation, so its job is a new message.
func JobMsgID(deliveryID int64, generation int) string {
	return "delivery-" + strconv.FormatInt(deliveryID, 10) + "-" + strconv.Itoa(generation)
}

// TransitionMsgID is the Nats-Msg-Id of a transition on
// SubjectDeliverTransition: a relay that republishes a row after a crash
// stores it once within the stream's duplicate window.
func TransitionMsgID(transitionID int64) string {
	return "transition-" + strconv.FormatInt(transitionID, 10)
}
