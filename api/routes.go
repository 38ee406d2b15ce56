package api

import (
	"net/http"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// OpenAPI tags.
const (
	tagUtility    = "Utility"
	tagIdentity   = "Identity"
	tagSites      = "Sites"
	tagEvents     = "Events"
	tagStats      = "Statistics"
	tagWebhooks   = "Webhooks"
	tagWebhookDel = "Webhook deliveries"
	tagContacts   = "Alert contacts"
	tagContactDel = "Alert deliveries"
)

func tags() []string {
	return []string{tagUtility, tagIdentity, tagSites, tagEvents, tagStats, tagWebhooks, tagWebhookDel, tagContacts, tagContactDel}
}

// Short names for the table.
const (
	mGet    = http.MethodGet
	mPost   = http.MethodPost
	mPatch  = http.MethodPatch
	mDelete = http.MethodDelete
	sRead   = uptime.ScopeRead
	sWrite  = uptime.ScopeWrite
)

// routes is the route table: every route the API serves and documents.
// Request and response types come from each handler's signature.
func (s *Server) routes() []route {
	var all []route
	for _, group := range [][]route{s.systemRoutes(), s.siteRoutes(), s.eventRoutes(), s.statsRoutes(),
		s.webhookRoutes(), s.contactRoutes()} {
		all = append(all, group...)
	}
	return all
}

// systemRoutes are the utility and identity routes.
func (s *Server) systemRoutes() []route {
	return []route{
		{method: mGet, pattern: "/health", status: 200, operationID: "getHealth", tag: tagUtility,
			summary: "Liveness of the API and its database and NATS connections (no authentication)", ep: handle(s.health)},
		{method: mGet, pattern: "/openapi.json", scope: sRead, status: 200, operationID: "getOpenAPI", tag: tagUtility,
			summary: "This document", ep: handle(s.openAPI)},
		{method: mGet, pattern: "/mesh", scope: sRead, status: 200, operationID: "getMesh", tag: tagUtility,
			summary: "Leader, epoch, live probers and verifliers by region, unassigned buckets, results backlog", ep: handle(s.mesh)},
		{method: mGet, pattern: "/me", scope: sRead, status: 200, operationID: "getCurrentAPIKey", tag: tagIdentity,
			summary: "The calling API key", ep: handle(s.me)},
	}
}

// siteRoutes are the site routes.
func (s *Server) siteRoutes() []route {
	return []route{
		{method: mGet, pattern: "/sites", scope: sRead, status: 200, operationID: "listSites", tag: tagSites, query: s.siteListParams(),
			summary: "List sites with their derived state", ep: handle(s.listSites)},
		{method: mPost, pattern: "/sites", scope: sWrite, idempotent: true, status: 201, operationID: "createSite", tag: tagSites,
			summary: "Create a site", ep: handle(s.createSite)},
		{method: mGet, pattern: "/sites/{site_id}", scope: sRead, status: 200, operationID: "getSite", tag: tagSites,
			summary: "A site with its open events", ep: handle(s.getSite)},
		{method: mPatch, pattern: "/sites/{site_id}", scope: sWrite, status: 200, operationID: "updateSite", tag: tagSites,
			summary: "Change a site's configuration", ep: handle(s.updateSite)},
		{method: mDelete, pattern: "/sites/{site_id}", scope: sWrite, status: 204, operationID: "deleteSite", tag: tagSites,
			summary: "Soft-delete a site (the coordinator closes its open events first)", ep: handle(s.deleteSite)},
		{method: mPost, pattern: "/sites/{site_id}/pause", scope: sWrite, idempotent: true, status: 200, operationID: "pauseSite",
			tag: tagSites, summary: "Stop monitoring a site (the coordinator closes its open events first)", ep: handle(s.pauseSite)},
		{method: mPost, pattern: "/sites/{site_id}/resume", scope: sWrite, idempotent: true, status: 200, operationID: "resumeSite",
			tag: tagSites, summary: "Monitor a paused site again", ep: handle(s.resumeSite)},
		{method: mPost, pattern: "/sites/{site_id}/trigger-now", scope: sWrite, idempotent: true, status: 200,
			operationID: "triggerSiteCheck", tag: tagSites, summary: "Check a site now from the prober that owns it",
			ep: handle(s.triggerSite)},
	}
}

// eventRoutes are the event routes.
func (s *Server) eventRoutes() []route {
	return []route{
		{method: mGet, pattern: "/sites/{site_id}/events", scope: sRead, status: 200, operationID: "listSiteEvents", tag: tagEvents,
			query: s.eventListParams(), summary: "A site's events, newest first", ep: handle(s.listSiteEvents)},
		{method: mGet, pattern: "/sites/{site_id}/events/{event_id}", scope: sRead, status: 200, operationID: "getSiteEvent",
			tag: tagEvents, summary: "An event with its transitions and confirmation evidence", ep: handle(s.getSiteEvent)},
		{method: mGet, pattern: "/sites/{site_id}/events/{event_id}/transitions", scope: sRead, status: 200,
			operationID: "listEventTransitions", tag: tagEvents, query: s.pageParams(s.opts.Limits.DefaultTransitionPageSize), summary: "An event's transitions in order",
			ep: handle(s.listEventTransitions)},
		{method: mPost, pattern: "/sites/{site_id}/events/{event_id}/close", scope: sWrite, idempotent: true, status: 200,
			operationID: "closeEvent", tag: tagEvents, bodyOptional: true,
			summary: "Close an event through the coordinator (a closed event answers 200 as it is)", ep: handle(s.closeEvent)},
		{method: mGet, pattern: "/events/{event_id}", scope: sRead, status: 200, operationID: "getEvent", tag: tagEvents,
			summary: "An event by id", ep: handle(s.getEvent)},
	}
}

// statsRoutes are the statistics routes.
func (s *Server) statsRoutes() []route {
	return []route{
		{method: mGet, pattern: "/sites/{site_id}/uptime", scope: sRead, status: 200, operationID: "getSiteUptime", tag: tagStats,
			query: statsParams(), summary: "Availability, incidents, MTTR and MTBF in a window", ep: handle(s.getSiteUptime)},
		{method: mGet, pattern: "/sites/{site_id}/response-time", scope: sRead, status: 200, operationID: "getSiteResponseTime",
			tag: tagStats, query: statsParams(), summary: "Response time mean, min and max from the hourly roll-ups",
			ep: handle(s.getSiteResponseTime)},
		{method: mGet, pattern: "/sites/{site_id}/timing-breakdown", scope: sRead, status: 200, operationID: "getSiteTimingBreakdown",
			tag: tagStats, query: statsParams(), summary: "Mean DNS, TCP, TLS and TTFB times from the hourly roll-ups",
			ep: handle(s.getSiteTimingBreakdown)},
	}
}

// webhookRoutes are the webhook routes.
func (s *Server) webhookRoutes() []route {
	return []route{
		{method: mGet, pattern: "/webhooks", scope: sRead, status: 200, operationID: "listWebhooks", tag: tagWebhooks,
			query: s.pageParams(s.opts.Limits.DefaultPageSize), summary: "List webhooks", ep: handle(s.listWebhooks)},
		{method: mPost, pattern: "/webhooks", scope: sWrite, idempotent: true, status: 201, operationID: "createWebhook",
			tag: tagWebhooks, summary: "Register a webhook (the answer carries its secret, once)", ep: handle(s.createWebhook)},
		{method: mGet, pattern: "/webhooks/{webhook_id}", scope: sRead, status: 200, operationID: "getWebhook", tag: tagWebhooks,
			summary: "A webhook", ep: handle(s.getWebhook)},
		{method: mPatch, pattern: "/webhooks/{webhook_id}", scope: sWrite, status: 200, operationID: "updateWebhook", tag: tagWebhooks,
			summary: "Change a webhook", ep: handle(s.updateWebhook)},
		{method: mDelete, pattern: "/webhooks/{webhook_id}", scope: sWrite, status: 204, operationID: "deleteWebhook",
			tag: tagWebhooks, summary: "Delete a webhook (its deliveries stay)", ep: handle(s.deleteWebhook)},
		{method: mPost, pattern: "/webhooks/{webhook_id}/rotate-secret", scope: sWrite, idempotent: true, status: 200,
			operationID: "rotateWebhookSecret", tag: tagWebhooks, query: graceParams(),
			summary: "Replace a webhook's secret, optionally keeping the old one valid for a grace window",
			ep:      handle(s.rotateWebhookSecret)},
		{method: mGet, pattern: "/webhooks/{webhook_id}/deliveries", scope: sRead, status: 200, operationID: "listWebhookDeliveries",
			tag: tagWebhookDel, query: s.deliveryListParams(), summary: "A webhook's deliveries, newest first",
			ep: handle(s.listWebhookDeliveries)},
		{method: mPost, pattern: "/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", scope: sWrite, idempotent: true,
			status: 200, operationID: "retryWebhookDelivery", tag: tagWebhookDel,
			summary: "Re-enqueue a failed or abandoned delivery with a fresh retry budget", ep: handle(s.retryWebhookDelivery)},
	}
}

// contactRoutes are the alert contact routes.
func (s *Server) contactRoutes() []route {
	return []route{
		{method: mGet, pattern: "/alert-contacts", scope: sRead, status: 200, operationID: "listAlertContacts", tag: tagContacts,
			query: s.pageParams(s.opts.Limits.DefaultPageSize), summary: "List alert contacts", ep: handle(s.listAlertContacts)},
		{method: mPost, pattern: "/alert-contacts", scope: sWrite, idempotent: true, status: 201, operationID: "createAlertContact",
			tag: tagContacts, summary: "Register an alert contact", ep: handle(s.createAlertContact)},
		{method: mGet, pattern: "/alert-contacts/{alert_contact_id}", scope: sRead, status: 200, operationID: "getAlertContact",
			tag: tagContacts, summary: "An alert contact", ep: handle(s.getAlertContact)},
		{method: mPatch, pattern: "/alert-contacts/{alert_contact_id}", scope: sWrite, status: 200, operationID: "updateAlertContact",
			tag: tagContacts, summary: "Change an alert contact (not its transport)", ep: handle(s.updateAlertContact)},
		{method: mDelete, pattern: "/alert-contacts/{alert_contact_id}", scope: sWrite, status: 204, operationID: "deleteAlertContact",
			tag: tagContacts, summary: "Delete an alert contact (its deliveries stay)", ep: handle(s.deleteAlertContact)},
		{method: mPost, pattern: "/alert-contacts/{alert_contact_id}/test", scope: sWrite, idempotent: true, status: 200,
			altStatus: http.StatusBadGateway, operationID: "testAlertContact", tag: tagContacts,
			summary: "Send a test notice now (502 with the same body when the receiver refused it)", ep: handle(s.testAlertContact)},
		{method: mGet, pattern: "/alert-contacts/{alert_contact_id}/deliveries", scope: sRead, status: 200,
			operationID: "listAlertContactDeliveries", tag: tagContactDel, query: s.deliveryListParams(),
			summary: "An alert contact's deliveries, newest first", ep: handle(s.listAlertContactDeliveries)},
		{method: mPost, pattern: "/alert-contacts/{alert_contact_id}/deliveries/{delivery_id}/retry", scope: sWrite,
			idempotent: true, status: 200, operationID: "retryAlertContactDelivery", tag: tagContactDel,
			summary: "Re-enqueue a failed or abandoned delivery with a fresh retry budget", ep: handle(s.retryAlertContactDelivery)},
	}
}
