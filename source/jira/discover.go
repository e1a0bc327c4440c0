package jira

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// JSM custom field types, matched on schema.custom: field ids differ per site
// and names are renamable and localised.
const (
	customSLA              = "com.atlassian.servicedesk:sd-sla-field"
	customSatisfaction     = "com.atlassian.servicedesk:sd-request-feedback"
	customSatisfactionDate = "com.atlassian.servicedesk:sd-request-feedback-date"
	customRequestType      = "com.atlassian.servicedesk:vp-origin"
)

// Field is one discovered JSM field.
type Field struct {
	Kind string // sla, satisfaction, satisfaction_date, request_type
	ID   string
	Name string
}

// site is what the exporter learns about a Jira site once per process.
type site struct {
	deployment string // DeploymentCloud or DeploymentDataCenter
	version    string
	user       myself
	loc        *time.Location

	slaFields        []Field
	satisfaction     string // field id, "" when absent
	satisfactionDate string
	requestType      string
	segments         siteSegments

	// statusMu guards the status maps: the batches of a concurrent initial
	// sync complete in parallel, and one may read the list again. The two
	// lookup maps are replaced, never changed, so a reader may keep them.
	statusMu   sync.RWMutex
	categories map[string]ticket.Category // status id → category
	// statusNames maps lower-cased status names to their category, for
	// changelogs naming ids the list no longer has; a name used by
	// statuses of different categories is left out.
	statusNames map[string]ticket.Category
	// retiredStatuses are changelog status ids still missing after the
	// list was read again: no use reading it again for them.
	retiredStatuses map[string]bool
	// firstResponseSLA names the SLA giving the first response; "" means
	// the first public agent comment.
	firstResponseSLA string
}

func (s *site) cloud() bool { return s.deployment == DeploymentCloud }

// fields lists the JSM fields found, for logs and the check report.
func (s *site) fields() []Field {
	out := append([]Field(nil), s.slaFields...)
	if s.satisfaction != "" {
		out = append(out, Field{Kind: "satisfaction", ID: s.satisfaction})
	}
	if s.satisfactionDate != "" {
		out = append(out, Field{Kind: "satisfaction_date", ID: s.satisfactionDate})
	}
	if s.requestType != "" {
		out = append(out, Field{Kind: "request_type", ID: s.requestType})
	}
	return out
}

// searchFields is the explicit field list of every ticket search (Cloud
// search/jql returns only ids by default).
func (s *site) searchFields() []string {
	out := []string{"created", "updated", "status", "resolutiondate", "reporter", "priority", "project", "issuetype", "comment"}
	for _, f := range s.slaFields {
		out = append(out, f.ID)
	}
	for _, id := range []string{s.satisfaction, s.satisfactionDate, s.requestType} {
		if id != "" {
			out = append(out, id)
		}
	}
	return append(out, s.segments.searchFields()...)
}

// discover reads deployment, user, time zone, JSM fields and statuses
// through c. firstWait, when positive, bounds the wait for the site's first
// answer (check: a person is waiting).
func (src *Source) discover(ctx context.Context, c *api.Client, firstWait time.Duration) (*site, error) {
	st := &site{deployment: src.cfg.Deployment}

	var info serverInfo
	if err := src.serverInfo(ctx, c, firstWait, &info); err != nil {
		return nil, fmt.Errorf("read server info: %w", src.explain(err))
	}
	st.version = info.Version
	if st.deployment == DeploymentAuto {
		if strings.EqualFold(info.DeploymentType, "cloud") {
			st.deployment = DeploymentCloud
		} else {
			st.deployment = DeploymentDataCenter
		}
	}

	if err := c.Do(ctx, api.Request{Endpoint: "myself", Method: http.MethodGet, Path: "rest/api/2/myself"}, &st.user); err != nil {
		return nil, fmt.Errorf("read authenticated user: %w", src.explain(err))
	}
	st.loc = time.UTC
	if st.user.TimeZone != "" {
		loc, err := time.LoadLocation(st.user.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("load time zone %q of the API user: %w", st.user.TimeZone, err)
		}
		st.loc = loc
	} else {
		src.logger.Warn("the API user has no time zone; JQL dates are written in UTC")
	}

	var fields []fieldDef
	if err := c.Do(ctx, api.Request{Endpoint: "field", Method: http.MethodGet, Path: "rest/api/2/field"}, &fields); err != nil {
		return nil, fmt.Errorf("list fields: %w", src.explain(err))
	}
	st.applyFields(fields)
	segments, err := resolveSegments(fields, src.segments)
	if err != nil {
		return nil, err
	}
	st.segments = segments

	if err := src.loadStatuses(ctx, c, st); err != nil {
		return nil, err
	}

	st.firstResponseSLA = src.chooseFirstResponse(st)
	return st, nil
}

func (src *Source) serverInfo(ctx context.Context, c *api.Client, firstWait time.Duration, info *serverInfo) error {
	req := api.Request{Endpoint: "server_info", Method: http.MethodGet, Path: "rest/api/2/serverInfo"}
	if firstWait <= 0 {
		return c.Do(ctx, req, info)
	}
	waitCtx, cancel := context.WithTimeout(ctx, firstWait)
	defer cancel()
	err := c.Do(waitCtx, req, info)
	if err != nil && ctx.Err() == nil && waitCtx.Err() != nil {
		return fmt.Errorf("no answer within %s: %w", firstWait, err)
	}
	return err
}

func (st *site) applyFields(fields []fieldDef) {
	// Sorted by id so the search field list and logs are stable.
	sort.Slice(fields, func(i, j int) bool { return fields[i].ID < fields[j].ID })
	for _, f := range fields {
		switch f.Schema.Custom {
		case customSLA:
			st.slaFields = append(st.slaFields, Field{Kind: "sla", ID: f.ID, Name: f.Name})
		case customSatisfaction:
			if st.satisfaction == "" {
				st.satisfaction = f.ID
			}
		case customSatisfactionDate:
			if st.satisfactionDate == "" {
				st.satisfactionDate = f.ID
			}
		case customRequestType:
			if st.requestType == "" {
				st.requestType = f.ID
			}
		}
	}
}

func (src *Source) loadStatuses(ctx context.Context, c *api.Client, st *site) error {
	var statuses []statusDef
	if err := c.Do(ctx, api.Request{Endpoint: "status", Method: http.MethodGet, Path: "rest/api/2/status"}, &statuses); err != nil {
		return fmt.Errorf("list statuses: %w", src.explain(err))
	}
	categories := make(map[string]ticket.Category, len(statuses))
	names := make(map[string]ticket.Category, len(statuses))
	ambiguous := map[string]bool{}
	for _, s := range statuses {
		c, ok := categoryFromKey(s.StatusCategory.Key)
		if !ok {
			continue
		}
		categories[s.ID] = c
		name := statusName(s.Name)
		if prev, seen := names[name]; (seen && prev != c) || ambiguous[name] {
			ambiguous[name] = true
			delete(names, name)
			continue
		}
		names[name] = c
	}
	st.statusMu.Lock()
	st.categories, st.statusNames = categories, names
	st.statusMu.Unlock()
	return nil
}

// category is the category of a status id.
func (st *site) category(statusID string) (ticket.Category, bool) {
	st.statusMu.RLock()
	defer st.statusMu.RUnlock()
	c, ok := st.categories[statusID]
	return c, ok
}

// statusMaps returns the status lookups as they are now.
func (st *site) statusMaps() (categories, names map[string]ticket.Category) {
	st.statusMu.RLock()
	defer st.statusMu.RUnlock()
	return st.categories, st.statusNames
}

// newStatuses reports whether ids holds one not yet found missing after
// the list was read again.
func (st *site) newStatuses(ids []string) bool {
	st.statusMu.RLock()
	defer st.statusMu.RUnlock()
	for _, id := range ids {
		if !st.retiredStatuses[id] {
			return true
		}
	}
	return false
}

// retire remembers ids still missing after the list was read again and
// returns those it did not know yet.
func (st *site) retire(ids []string) []string {
	st.statusMu.Lock()
	defer st.statusMu.Unlock()
	if st.retiredStatuses == nil {
		st.retiredStatuses = map[string]bool{}
	}
	var fresh []string
	for _, id := range ids {
		if !st.retiredStatuses[id] {
			st.retiredStatuses[id] = true
			fresh = append(fresh, id)
		}
	}
	return fresh
}

// statusName is the key status names are matched on.
func statusName(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// categoryFromKey maps Jira's status category keys; "undefined" (No
// Category) counts as new because such a status has not been worked on.
func categoryFromKey(key string) (ticket.Category, bool) {
	switch strings.ToLower(key) {
	case "new", "undefined":
		return ticket.CategoryNew, true
	case "indeterminate":
		return ticket.CategoryIndeterminate, true
	case "done":
		return ticket.CategoryDone, true
	}
	return "", false
}

// chooseFirstResponse resolves first_response to an SLA name or "" for
// comments. The field's own name is used so it matches SLA.Name exactly.
func (src *Source) chooseFirstResponse(st *site) string {
	want := strings.TrimSpace(src.cfg.FirstResponseSLA)
	var found string
	for _, f := range st.slaFields {
		if strings.EqualFold(strings.TrimSpace(f.Name), want) {
			found = f.Name
			break
		}
	}
	switch src.cfg.FirstResponse {
	case FirstResponseComment:
		return ""
	case FirstResponseSLA:
		if found == "" {
			src.logger.Warn("first_response is sla but no SLA field has that name; tickets without it fall back to comments",
				"first_response_sla", want)
			return want
		}
		return found
	default:
		return found
	}
}
