// Package fakejira is a fake Jira (Cloud or Data Center, with Jira Service
// Management) on 127.0.0.1 for tests and for the performance harness. It
// follows the official OpenAPI shapes and the notes in
// shared/reference/jira-api-notes.md, ugly parts included, and computes the
// metrics the exporter must produce from its own data model (Truth).
//
// # Starting one
//
//	srv := fakejira.New(fakejira.Options{Deployment: fakejira.DeploymentCloud, Now: clock.Now})
//	defer srv.Close()
//	srv.Add(fakejira.Generate(1, 500, fakejira.GenerateOptions{End: clock.Now()})...)
//	// point the adapter at srv.URL with basic auth DefaultEmail / DefaultAPIToken
//	// (Data Center: DeploymentDataCenter, bearer DefaultPAT)
//
// Options.Now drives the data (mutations, SLA clocks, Truth); request logs
// and Retry-After penalties use real time.
//
// # Endpoints
//
// Bodies are the v2 shapes (plain string comment bodies). Timestamps are
// rendered in the API user's zone (Options.TimeZone, default
// America/New_York) as 2006-01-02T15:04:05.000-0700. Errors are
// {"errorMessages":[...],"errors":{}}. Each endpoint has a name used by
// Count and Fault.Endpoint:
//
//	serverInfo          GET  /rest/api/2/serverInfo (anonymous allowed): deploymentType, version
//	myself              GET  /rest/api/2/myself: accountId (Cloud) or name (DC), timeZone
//	field               GET  /rest/api/2/field: system fields plus JSM custom fields with random
//	                         ids per Options.Seed, found by schema.custom:
//	                         com.atlassian.servicedesk:sd-sla-field (one per SLA name),
//	                         :sd-request-feedback, :sd-request-feedback-date, :vp-origin.
//	                         Decoys share the names "Time to first response", "Satisfaction",
//	                         "Request Type" with other schema.custom and carry wrong values.
//	                         Segments: Organizations (:sd-customer-organizations, a list of
//	                         {id,name,_links}, [] when none; a text field decoy shares the
//	                         name), Team (Cloud: type team, ...customfieldtypes:atlassian-team,
//	                         {id: UUID, name, title, ...}; Data Center: type any,
//	                         com.atlassian.teams:rm-teams-custom-field-team, {id: number,
//	                         title, isShared}), "Assignment group" (a single select {self,
//	                         value, id} holding the team too) and the system assignee.
//	status              GET  /rest/api/2/status (ids in Statuses; categories new=2, indeterminate=4, done=3)
//	statuscategory      GET  /rest/api/2/statuscategory
//	search_jql          GET|POST /rest/api/2/search/jql (Cloud only): jql, nextPageToken,
//	                         maxResults (default 50; capped at 100, or 5000 when only id/key are
//	                         asked for and changelog is not expanded), fields (default id only:
//	                         then issues carry just id and self), expand=changelog (inline
//	                         changelog: the 20 most recent, newest first,
//	                         {startAt:0,maxResults:20,total,histories}). The comment field holds
//	                         the first 20 comments (Options.InlineCommentLimit) with total. Response
//	                         {issues, isLast, nextPageToken?}; no total. The result is a
//	                         snapshot taken on the first page; a token must come back with the
//	                         same jql. A query without restriction is a 400.
//	approximate_count   POST /rest/api/2/search/approximate-count {"jql"} -> {"count"} (Cloud)
//	search              GET|POST /rest/api/{2,3}/search: Cloud answers 410 Gone with the
//	                         CHANGE-2046 message. Data Center: startAt, maxResults (capped at
//	                         100 and read back), total, default fields *navigable,
//	                         expand=changelog with the most recent 100 histories oldest first
//	                         and startAt/total telling what is missing; startAt+maxResults
//	                         beyond Options.SearchWindow (10,000) is a 400.
//	changelog_bulkfetch POST /rest/api/2/changelog/bulkfetch (Cloud) {issueIdsOrKeys (1..1000),
//	                         fieldIds (<=10), maxResults (default 1000, <=10000), nextPageToken}
//	                         -> {issueChangeLogs:[{issueId, changeHistories}], nextPageToken?};
//	                         issues in id order, histories oldest first, only histories touching
//	                         fieldIds (items filtered too); maxResults counts histories, so one
//	                         issue may continue on the next page; issues without matching
//	                         history are left out. created is a date-time string (epoch seconds
//	                         with Options.ChangelogCreatedAsEpoch).
//	issue               GET  /rest/api/2/issue/{idOrKey}?fields&expand=changelog (default fields
//	                         *all; changelog complete on Data Center, the most recent 100 on
//	                         Cloud)
//	issue_changelog     GET  /rest/api/2/issue/{idOrKey}/changelog?startAt&maxResults (Cloud only,
//	                         as the notes say Data Center lacks it: 404 there; page of 100,
//	                         oldest first, PageBeanChangelog)
//	comment             GET  /rest/api/2/issue/{idOrKey}/comment?startAt&maxResults&orderBy&expand=properties
//	                         (page of 100; Cloud comments carry jsdPublic; with expand=properties
//	                         internal notes carry sd.public.comment {"internal":true}, others
//	                         properties [], or null or nothing per Options.CommentProperties)
//	sd_feedback         GET  /rest/servicedeskapi/request/{key}/feedback: {type:csat, rating} or 404
//	sd_comment          GET  /rest/servicedeskapi/request/{key}/comment?public&internal&start&limit
//	sd_sla              GET  /rest/servicedeskapi/request/{key}/sla (served, but the exporter
//	                         should not need it)
//	unknown             anything else: 404
//
// Users render with accountId and accountType (atlassian, customer, app) on
// Cloud and with name (= User.AccountID) and key (JIRAUSER<n>, not the name)
// on Data Center. Data Center changelog items have no fieldId and comments
// no jsdPublic, and nothing there marks automation: an adapter has to be
// told DefaultAutomation.AccountID, and cannot tell a second customer from
// an agent (the generator never lets one comment).
//
// Opt-in ugliness: Options.IndexLag makes search eventually consistent (a
// change is invisible to search, and the old version is served, for the
// lag); Options.ShortPages makes Cloud pages shorter than they could be
// without being the last; Options.ChangelogCreatedAsEpoch renders bulkfetch
// created as epoch seconds like the spec example.
//
// # Authentication
//
// Basic Options.Email + Options.APIToken, or "Bearer " + Options.PAT. Wrong
// credentials: 401 with X-Seraph-LoginReason: AUTHENTICATED_FAILED (Cloud: a
// plain text body; Data Center: an errorMessages body). With
// Options.ScopedToken set, that token works only below GatewayURL() and is a
// 401 "Unauthorized; scope does not match" on the site URL.
//
// # JQL
//
// Exactly this subset; anything else is a 400 with a Jira-like message:
//
//	clauses   updated|created  = != > >= < <=  "yyyy-MM-dd HH:mm" | "yyyy/MM/dd HH:mm" | "yyyy-MM-dd" | "yyyy/MM/dd"
//	          id  = > >= < <=  N
//	          project  = X | != X | in (X, Y) | not in (X, Y)   (unknown project: 400)
//	          statusCategory  = | != | in | not in  (Done, "To Do", "In Progress", keys or ids)
//	          resolution  = Unresolved | != Unresolved | is EMPTY | is not EMPTY
//	logic     AND, OR, NOT, parentheses, any nesting (NOT binds tightest, then AND)
//	order     ORDER BY updated|created|id|key [ASC|DESC], ...
//
// Dates are read in the API user's time zone, at minute precision, and
// compared with the millisecond timestamp, as Jira does. Without
// ORDER BY the order is key descending. Keys sort by project, then number.
//
// # Faults and accounting
//
// FailNext(n, Fault) and FailFor(d, Fault) inject 429 (Retry-After,
// X-RateLimit-*, RateLimit-Reason), 5xx, dropped connections, truncated JSON
// or a 200 HTML page, for all requests or one endpoint. A 429 opens a
// penalty of Retry-After seconds: requests arriving within it get 429 again
// and show up in PenaltyViolations. SetLatency delays every response. Count,
// Counts, Total, Requests and ResetCounts give the request log.
//
// # Data and mutations
//
// Issue is the data model: id, key, project, request type, priority,
// reporter, created/updated, status, resolution, the full changelog,
// comments, SLAs, ratings, organizations, team and assignee. Add loads
// issues; Generate makes n realistic ones deterministically from a seed
// (customers bring the organizations of their account, one in ten two;
// desks route to their teams, a few tickets to none; the agent who starts
// work takes the ticket). CreateIssue, AddComment, AddComments, Transition,
// Rate, SetSatisfactionRaw, SetSLA, SetOrganizations, Reassign and Mutate
// change data like
// Jira does (updated moves to Now, status changes write changelog with
// resolution set/cleared, a public agent comment or a resolution completes
// the first-response SLA, resolving completes the resolution SLA, reopening
// starts a new one). SetSLAError makes an SLA field hold JSM's error object
// instead, as for an issue outside a service project. MigratedIssues are
// issues whose old histories name RetiredStatuses, statuses the status list
// no longer serves (a migrated workflow).
//
// Searches evaluate a query once and keep the ordered result (until the data
// changes), so paging costs O(page); that keeps 100k issues workable for the
// performance harness.
//
// # Ground truth
//
// Truth(horizon, firstResponseSLA) computes, from the data model alone, the
// counters, histogram observations and gauges the exporter must report, for
// every issue on the server; TruthJQL(jql, ...) for the issues a query
// matches. The doc comment of Truth lists the exact rules. SegmentTruth
// cuts the same events by customer group and team, counted where the
// exporter reads them (the values at the first poll that saw each event,
// read back from the changelog), and adds the unassigned and at-risk
// gauges.
package fakejira
