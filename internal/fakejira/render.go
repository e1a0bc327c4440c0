package fakejira

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Rendering follows the v2 REST shapes of the official spec: plain string
// bodies, Jira timestamps in the API user's zone, nulls where Jira sends them.

func (s *Server) cloud() bool { return s.opts.Deployment == DeploymentCloud }

// userJSON is a user as Jira renders it; Cloud and Data Center fill
// different fields.
type userJSON struct {
	Self         string `json:"self"`
	AccountID    string `json:"accountId,omitempty"`
	AccountType  string `json:"accountType,omitempty"`
	Name         string `json:"name,omitempty"`
	Key          string `json:"key,omitempty"`
	EmailAddress string `json:"emailAddress,omitempty"`
	DisplayName  string `json:"displayName"`
	Active       bool   `json:"active"`
	TimeZone     string `json:"timeZone"`
	Locale       string `json:"locale,omitempty"`
}

func (s *Server) renderUser(u User) userJSON {
	out := userJSON{DisplayName: u.DisplayName, Active: true, TimeZone: s.opts.TimeZone}
	if s.cloud() {
		out.Self = s.URL + "/rest/api/2/user?accountId=" + u.AccountID
		out.AccountID = u.AccountID
		out.AccountType = u.accountType()
	} else {
		out.Self = s.URL + "/rest/api/2/user?username=" + u.AccountID
		out.Name = u.AccountID
		out.Key = dcUserKey(u)
		out.EmailAddress = u.AccountID + "@example.com"
	}
	return out
}

// dcUserKey is the Data Center user key: since Jira 8 new users get
// JIRAUSER<n>, unrelated to their name.
func dcUserKey(u User) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(u.AccountID))
	return fmt.Sprintf("JIRAUSER%d", 10000+h.Sum32()%90000)
}

type categoryJSON struct {
	Self      string `json:"self"`
	ID        int    `json:"id"`
	Key       string `json:"key"`
	ColorName string `json:"colorName"`
	Name      string `json:"name"`
}

type statusJSON struct {
	Self             string       `json:"self"`
	Description      string       `json:"description"`
	IconURL          string       `json:"iconUrl"`
	Name             string       `json:"name"`
	UntranslatedName string       `json:"untranslatedName"`
	ID               string       `json:"id"`
	StatusCategory   categoryJSON `json:"statusCategory"`
}

func (s *Server) renderStatus(st Status) statusJSON {
	return statusJSON{
		Self:             s.URL + "/rest/api/2/status/" + st.ID,
		IconURL:          s.URL + "/images/icons/statuses/generic.png",
		Name:             st.Name,
		UntranslatedName: st.Name,
		ID:               st.ID,
		StatusCategory:   s.renderCategory(categoryByKey(st.Category)),
	}
}

func (s *Server) renderCategory(c statusCategory) categoryJSON {
	return categoryJSON{Self: s.URL + "/rest/api/2/statuscategory/" + strconv.Itoa(c.id), ID: c.id, Key: c.key, ColorName: c.color, Name: c.name}
}

type propertyJSON struct {
	Key   string         `json:"key"`
	Value map[string]any `json:"value"`
}

type commentJSON struct {
	Self         string   `json:"self"`
	ID           string   `json:"id"`
	Author       userJSON `json:"author"`
	Body         string   `json:"body"`
	UpdateAuthor userJSON `json:"updateAuthor"`
	Created      string   `json:"created"`
	Updated      string   `json:"updated"`
	JSDPublic    *bool    `json:"jsdPublic,omitempty"`
	// Properties is nil unless expanded; then a (possibly empty) list.
	Properties []propertyJSON `json:"properties,omitempty"`
	expanded   bool
	noProps    NoProperties
}

// MarshalJSON renders an expanded comment without properties in the
// site's shape: [], null, or no key.
func (c commentJSON) MarshalJSON() ([]byte, error) {
	type plain commentJSON
	if c.expanded && len(c.Properties) == 0 && c.noProps != PropertiesAbsent {
		var props []propertyJSON // null
		if c.noProps == PropertiesEmptyList {
			props = []propertyJSON{}
		}
		return json.Marshal(struct {
			plain
			Properties []propertyJSON `json:"properties"`
		}{plain(c), props})
	}
	return json.Marshal(plain(c))
}

func (s *Server) renderComment(is *Issue, c *Comment, withProperties bool) commentJSON {
	author := s.renderUser(c.Author)
	out := commentJSON{
		Self:         fmt.Sprintf("%s/rest/api/2/issue/%d/comment/%d", s.URL, is.ID, c.ID),
		ID:           strconv.FormatInt(c.ID, 10),
		Author:       author,
		Body:         c.Body,
		UpdateAuthor: author,
		Created:      s.jiraTime(c.Created),
		Updated:      s.jiraTime(c.Created),
		expanded:     withProperties,
		noProps:      s.opts.CommentProperties,
	}
	if s.cloud() {
		public := c.Public
		out.JSDPublic = &public
	}
	if withProperties && !c.Public {
		out.Properties = []propertyJSON{{Key: "sd.public.comment", Value: map[string]any{"internal": true}}}
	}
	return out
}

type historyItemJSON struct {
	Field      string  `json:"field"`
	FieldID    string  `json:"fieldId,omitempty"` // Cloud only
	FieldType  string  `json:"fieldtype"`
	From       *string `json:"from"`
	FromString *string `json:"fromString"`
	To         *string `json:"to"`
	ToString   *string `json:"toString"`
}

type historyJSON struct {
	ID      string            `json:"id"`
	Author  userJSON          `json:"author"`
	Created any               `json:"created"` // string, or epoch seconds on request
	Items   []historyItemJSON `json:"items"`
}

// renderHistory renders one changelog entry.
func (s *Server) renderHistory(h *History, epochCreated bool) historyJSON {
	nullable := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	out := historyJSON{ID: strconv.FormatInt(h.ID, 10), Author: s.renderUser(h.Author), Created: s.jiraTime(h.At),
		Items: make([]historyItemJSON, 0, len(h.Items))}
	if epochCreated {
		out.Created = h.At.Unix()
	}
	for _, it := range h.Items {
		item := historyItemJSON{Field: it.Field, FieldType: "jira", From: nullable(it.From), FromString: nullable(it.FromString),
			To: nullable(it.To), ToString: nullable(it.ToString)}
		if s.cloud() {
			item.FieldID = it.Field
		}
		// Custom fields are named in field and carry their id in fieldId.
		switch it.Field {
		case HistoryOrganizations:
			item.FieldType, item.FieldID = "custom", s.cloudOnly(s.fields.organizations)
		case HistoryTeam:
			item.FieldType, item.FieldID = "custom", s.cloudOnly(s.fields.team)
		}
		out.Items = append(out.Items, item)
	}
	return out
}

func historyTouches(h *History, fieldIDs map[string]bool) bool {
	if len(fieldIDs) == 0 {
		return true
	}
	for _, it := range h.Items {
		if fieldIDs[it.Field] {
			return true
		}
	}
	return false
}

func filterHistory(h *History, fieldIDs map[string]bool) *History {
	if len(fieldIDs) == 0 {
		return h
	}
	cp := *h
	cp.Items = nil
	for _, it := range h.Items {
		if fieldIDs[it.Field] {
			cp.Items = append(cp.Items, it)
		}
	}
	return &cp
}

// dateDTO is JSM's DateDTO.
type dateDTO struct {
	ISO8601     string `json:"iso8601"`
	Jira        string `json:"jira"`
	Friendly    string `json:"friendly"`
	EpochMillis int64  `json:"epochMillis"`
}

func (s *Server) dateDTO(t time.Time) dateDTO {
	local := t.In(s.loc)
	return dateDTO{
		ISO8601:     local.Format("2006-01-02T15:04:05-0700"),
		Jira:        local.Format("2006-01-02T15:04:05.000-0700"),
		Friendly:    local.Format("02/Jan/06 3:04 PM"),
		EpochMillis: t.UnixMilli(),
	}
}

// durationDTO is JSM's DurationDTO; friendly mimics "4h 30m" / "-1h -23m".
type durationDTO struct {
	Millis   int64  `json:"millis"`
	Friendly string `json:"friendly"`
}

func newDurationDTO(d time.Duration) durationDTO {
	ms := d.Milliseconds()
	return durationDTO{Millis: ms, Friendly: fmt.Sprintf("%dh %dm", ms/3600000, (ms/60000)%60)}
}

type cycleJSON struct {
	StartTime     dateDTO     `json:"startTime"`
	StopTime      dateDTO     `json:"stopTime"`
	BreachTime    dateDTO     `json:"breachTime"`
	Breached      bool        `json:"breached"`
	GoalDuration  durationDTO `json:"goalDuration"`
	ElapsedTime   durationDTO `json:"elapsedTime"`
	RemainingTime durationDTO `json:"remainingTime"`
}

type ongoingJSON struct {
	StartTime           dateDTO     `json:"startTime"`
	BreachTime          *dateDTO    `json:"breachTime,omitempty"`
	Breached            bool        `json:"breached"`
	Paused              bool        `json:"paused"`
	WithinCalendarHours bool        `json:"withinCalendarHours"`
	GoalDuration        durationDTO `json:"goalDuration"`
	ElapsedTime         durationDTO `json:"elapsedTime"`
	RemainingTime       durationDTO `json:"remainingTime"`
}

type slaJSON struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Links            map[string]string `json:"_links"`
	CompletedCycles  []cycleJSON       `json:"completedCycles"`
	OngoingCycle     *ongoingJSON      `json:"ongoingCycle,omitempty"`
	SLADisplayFormat string            `json:"slaDisplayFormat"`
}

func (s *Server) renderSLA(is *Issue, sla *SLA, fieldID string) slaJSON {
	now := s.opts.Now()
	out := slaJSON{
		ID:               strconv.Itoa(customIDNumber(fieldID)),
		Name:             sla.Name,
		Links:            map[string]string{"self": fmt.Sprintf("%s/rest/servicedeskapi/request/%d/sla/%d", s.URL, is.ID, customIDNumber(fieldID))},
		CompletedCycles:  make([]cycleJSON, 0, len(sla.Completed)),
		SLADisplayFormat: "NEW_SLA_FORMAT",
	}
	for _, c := range sla.Completed {
		out.CompletedCycles = append(out.CompletedCycles, cycleJSON{
			StartTime:     s.dateDTO(c.Start),
			StopTime:      s.dateDTO(c.Stop),
			BreachTime:    s.dateDTO(c.Start.Add(c.Goal)),
			Breached:      c.Breached,
			GoalDuration:  newDurationDTO(c.Goal),
			ElapsedTime:   newDurationDTO(c.Elapsed),
			RemainingTime: newDurationDTO(c.Goal - c.Elapsed),
		})
	}
	if o := sla.Ongoing; o != nil {
		elapsed := o.Elapsed(now)
		ongoing := &ongoingJSON{
			StartTime:           s.dateDTO(o.Start),
			Breached:            o.Breached(now),
			Paused:              o.Paused,
			WithinCalendarHours: o.WithinCalendarHours,
			GoalDuration:        newDurationDTO(o.Goal),
			ElapsedTime:         newDurationDTO(elapsed),
			RemainingTime:       newDurationDTO(o.Goal - elapsed),
		}
		if !o.Paused {
			breach := s.dateDTO(o.BreachAt())
			ongoing.BreachTime = &breach
		}
		out.OngoingCycle = ongoing
	}
	return out
}

// slaErrorObject is what JSM puts in an SLA field it cannot compute, e.g.
// for an issue outside a service project: its error response shape, with
// the i18n key seen on a real site (the message text is illustrative).
var slaErrorObject = map[string]any{
	"errorMessage":     "Service project not found for this issue.",
	"i18nErrorMessage": map[string]any{"i18nKey": "sd.jsm.agent.servicedesk.error.servicedesk.missing", "parameters": []any{}},
}

func (s *Server) renderRequestType(is *Issue) any {
	if is.RequestType == "" {
		return nil
	}
	p := s.projects[is.Project]
	rtID := s.requestTypes[is.Project+"/"+is.RequestType]
	st, _ := StatusByID(is.StatusID)
	return map[string]any{
		"_links": map[string]any{
			"jiraRest": fmt.Sprintf("%s/rest/api/2/issue/%d", s.URL, is.ID),
			"web":      fmt.Sprintf("%s/servicedesk/customer/portal/%d/%s", s.URL, p.deskID, is.Key),
			"agent":    s.URL + "/browse/" + is.Key,
			"self":     fmt.Sprintf("%s/rest/servicedeskapi/request/%d", s.URL, is.ID),
		},
		"requestType": map[string]any{
			"_links":        map[string]any{"self": fmt.Sprintf("%s/rest/servicedeskapi/servicedesk/%d/requesttype/%s", s.URL, p.deskID, rtID)},
			"id":            rtID,
			"name":          is.RequestType,
			"description":   "",
			"helpText":      "",
			"issueTypeId":   "10002",
			"serviceDeskId": strconv.Itoa(p.deskID),
			"portalId":      strconv.Itoa(p.deskID),
			"groupIds":      []string{},
			"icon":          map[string]any{"id": "10500", "_links": map[string]any{}},
		},
		"currentStatus": map[string]any{
			"status":         st.Name,
			"statusCategory": strings.ToUpper(string(st.Category)),
			"statusDate":     s.dateDTO(is.Updated),
		},
	}
}

func (s *Server) renderSatisfaction(is *Issue) any {
	if is.SatisfactionRaw != nil {
		return is.SatisfactionRaw
	}
	r := is.currentRating()
	if r == nil {
		return nil
	}
	return map[string]any{"self": fmt.Sprintf("%s/rest/servicedeskapi/request/%d/feedback", s.URL, is.ID), "rating": r.Value}
}

// fieldSelection is the parsed "fields" parameter.
type fieldSelection struct {
	all     bool
	include map[string]bool
	exclude map[string]bool
}

func parseFieldSelection(list []string, defaultAll bool) fieldSelection {
	sel := fieldSelection{include: map[string]bool{}, exclude: map[string]bool{}}
	for _, raw := range list {
		for _, f := range strings.Split(raw, ",") {
			f = strings.TrimSpace(f)
			switch {
			case f == "":
			case f == "*all" || f == "*navigable":
				sel.all = true
			case strings.HasPrefix(f, "-"):
				sel.exclude[f[1:]] = true
			default:
				sel.include[f] = true
			}
		}
	}
	if len(sel.include) == 0 && !sel.all {
		sel.all = defaultAll
	}
	return sel
}

func (f fieldSelection) wants(id string) bool {
	if f.exclude[id] {
		return false
	}
	return f.all || f.include[id]
}

// idOnly reports whether nothing beyond id/key was asked for, which lets
// Cloud serve up to 5000 issues per page.
func (f fieldSelection) idOnly() bool {
	if f.all {
		return false
	}
	for k := range f.include {
		if k != "id" && k != "key" {
			return false
		}
	}
	return true
}

// renderIssue renders an issue for search results.
func (s *Server) renderIssue(is *Issue, sel fieldSelection, expandChangelog bool) map[string]any {
	return s.renderIssueWithChangelog(is, sel, expandChangelog, s.opts.InlineChangelogLimit)
}

// renderIssueWithChangelog renders an issue keeping at most changelogLimit
// histories of its expanded changelog.
func (s *Server) renderIssueWithChangelog(is *Issue, sel fieldSelection, expandChangelog bool, changelogLimit int) map[string]any {
	m := map[string]any{
		"id":   strconv.FormatInt(is.ID, 10),
		"self": fmt.Sprintf("%s/rest/api/2/issue/%d", s.URL, is.ID),
	}
	if !sel.idOnly() || sel.include["key"] {
		m["key"] = is.Key
		m["expand"] = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
	}
	fields := map[string]any{}
	put := func(id string, value func() any) {
		if sel.wants(id) {
			fields[id] = s.fieldValue(is, id, value)
		}
	}
	p := s.projects[is.Project]
	put("summary", func() any { return is.Summary })
	put("project", func() any {
		return map[string]any{"self": fmt.Sprintf("%s/rest/api/2/project/%d", s.URL, p.id), "id": strconv.FormatInt(p.id, 10), "key": p.key, "name": p.key + " Service Desk", "projectTypeKey": "service_desk"}
	})
	put("issuetype", func() any { return map[string]any{"id": "10002", "name": "[System] Service request", "subtask": false} })
	put("status", func() any { st, _ := StatusByID(is.StatusID); return s.renderStatus(st) })
	put("created", func() any { return s.jiraTime(is.Created) })
	put("updated", func() any { return s.jiraTime(is.Updated) })
	put("statuscategorychangedate", func() any { return s.jiraTime(is.statusCategoryChangeDate()) })
	put("resolution", func() any {
		if is.Resolution == "" {
			return nil
		}
		return map[string]any{"self": s.URL + "/rest/api/2/resolution/10000", "id": "10000", "name": is.Resolution, "description": "Work has been completed on this issue."}
	})
	put("resolutiondate", func() any { return s.jiraTimeOrNil(is.ResolutionDate) })
	put("priority", func() any {
		if is.Priority == "" {
			return nil
		}
		return map[string]any{"self": s.URL + "/rest/api/2/priority/" + priorityIDs[is.Priority], "iconUrl": s.URL + "/images/icons/priorities/medium.svg", "name": is.Priority, "id": priorityIDs[is.Priority]}
	})
	put("reporter", func() any { return s.renderUser(is.Reporter) })
	put("comment", func() any {
		limit := min(len(is.Comments), s.opts.InlineCommentLimit)
		comments := make([]any, 0, limit)
		for i := range limit {
			comments = append(comments, s.renderComment(is, &is.Comments[i], false))
		}
		return map[string]any{"comments": comments, "maxResults": s.opts.InlineCommentLimit, "total": len(is.Comments), "startAt": 0}
	})
	for _, name := range s.fields.slaOrder {
		id := s.fields.sla[name]
		put(id, func() any {
			if slices.Contains(is.SLAErrors, name) {
				return slaErrorObject
			}
			if sla := is.sla(name); sla != nil {
				return s.renderSLA(is, sla, id)
			}
			return nil
		})
	}
	put(s.fields.satisfaction, func() any { return s.renderSatisfaction(is) })
	put(s.fields.satisfactionDate, func() any {
		if r := is.currentRating(); r != nil {
			return s.jiraTime(r.At)
		}
		return nil
	})
	put(s.fields.requestType, func() any { return s.renderRequestType(is) })
	put(s.fields.participants, func() any { return []any{} })
	put(s.fields.organizations, func() any { return s.renderOrganizations(is) })
	put(s.fields.team, func() any { return s.renderTeam(is.Team) })
	put(s.fields.assignmentGroup, func() any { return s.renderOption(is.Team) })
	put(s.fields.decoyOrganizations, func() any { return "CRM account 0042" })
	put("assignee", func() any {
		if is.Assignee == nil {
			return nil
		}
		return s.renderUser(*is.Assignee)
	})
	put(s.fields.decoyFirstResp, func() any { return "4h" })
	put(s.fields.decoySatisfied, func() any { return 1.0 })
	put(s.fields.decoyRequestType, func() any {
		return map[string]any{"self": s.URL + "/rest/api/2/customFieldOption/10100", "value": "Other", "id": "10100"}
	})
	if len(fields) > 0 {
		m["fields"] = fields
	}
	if expandChangelog {
		m["changelog"] = s.renderInlineChangelog(is, changelogLimit)
	}
	return m
}

// renderInlineChangelog renders expand=changelog, truncated like the real
// thing: Cloud keeps the most recent N newest first (as its spec says),
// Data Center the most recent N oldest first with startAt pointing at them.
func (s *Server) renderInlineChangelog(is *Issue, limit int) map[string]any {
	total := len(is.Histories)
	first := max(0, total-limit)
	histories := make([]any, 0, total-first)
	if s.cloud() {
		for i := total - 1; i >= first; i-- {
			histories = append(histories, s.renderHistory(&is.Histories[i], false))
		}
		return map[string]any{"startAt": 0, "maxResults": limit, "total": total, "histories": histories}
	}
	for i := first; i < total; i++ {
		histories = append(histories, s.renderHistory(&is.Histories[i], false))
	}
	return map[string]any{"startAt": first, "maxResults": limit, "total": total, "histories": histories}
}

func (is *Issue) statusCategoryChangeDate() time.Time {
	at := is.Created
	for _, h := range is.Histories {
		for _, it := range h.Items {
			if it.Field == "status" && categoryOf(it.From) != categoryOf(it.To) {
				at = h.At
			}
		}
	}
	return at
}

// fieldDefinitions is the /rest/api/2/field body.
func (s *Server) fieldDefinitions() []any {
	system := func(id, name, typ string) map[string]any {
		return map[string]any{"id": id, "key": id, "name": name, "custom": false, "orderable": true, "navigable": true, "searchable": true,
			"clauseNames": []string{id}, "schema": map[string]any{"type": typ, "system": id}}
	}
	custom := func(id, name, typ, plugin string) map[string]any {
		n := customIDNumber(id)
		return map[string]any{"id": id, "key": id, "name": name, "untranslatedName": name, "custom": true, "orderable": true, "navigable": true, "searchable": true,
			"clauseNames": []string{fmt.Sprintf("cf[%d]", n), name}, "schema": map[string]any{"type": typ, "custom": plugin, "customId": n}}
	}
	out := []any{
		system("summary", "Summary", "string"),
		system("project", "Project", "project"),
		system("issuetype", "Issue Type", "issuetype"),
		system("status", "Status", "status"),
		system("created", "Created", "datetime"),
		system("updated", "Updated", "datetime"),
		system("statuscategorychangedate", "Status Category Changed", "datetime"),
		system("resolution", "Resolution", "resolution"),
		system("resolutiondate", "Resolved", "datetime"),
		system("priority", "Priority", "priority"),
		system("reporter", "Reporter", "user"),
		system("comment", "Comment", "comments-page"),
		system("assignee", "Assignee", "user"),
		custom(s.fields.decoyFirstResp, SLATimeToFirstResponse, "string", "com.atlassian.jira.plugin.system.customfieldtypes:textfield"),
		custom(s.fields.decoySatisfied, "Satisfaction", "number", "com.atlassian.jira.plugin.system.customfieldtypes:float"),
		custom(s.fields.decoyRequestType, "Request Type", "option", "com.atlassian.jira.plugin.system.customfieldtypes:select"),
	}
	for _, name := range s.fields.slaOrder {
		out = append(out, custom(s.fields.sla[name], name, "sd-servicelevelagreement", "com.atlassian.servicedesk:sd-sla-field"))
	}
	out = append(out,
		custom(s.fields.satisfaction, "Satisfaction", "sd-feedback", "com.atlassian.servicedesk:sd-request-feedback"),
		custom(s.fields.satisfactionDate, "Satisfaction date", "datetime", "com.atlassian.servicedesk:sd-request-feedback-date"),
		custom(s.fields.requestType, "Customer Request Type", "sd-customerrequesttype", "com.atlassian.servicedesk:vp-origin"),
		custom(s.fields.participants, "Request participants", "array", "com.atlassian.servicedesk:sd-request-participants"),
		withItems(custom(s.fields.organizations, "Organizations", "array", "com.atlassian.servicedesk:sd-customer-organizations"), "sd-customerorganization"),
		custom(s.fields.assignmentGroup, "Assignment group", "option", "com.atlassian.jira.plugin.system.customfieldtypes:select"),
		custom(s.fields.decoyOrganizations, "Organizations", "string", "com.atlassian.jira.plugin.system.customfieldtypes:textfield"),
	)
	// Cloud's Team field is the Atlassian Teams one; Data Center's comes
	// with Advanced Roadmaps, typed "any".
	if s.cloud() {
		out = append(out, custom(s.fields.team, "Team", "team", "com.atlassian.jira.plugin.system.customfieldtypes:atlassian-team"))
	} else {
		out = append(out, custom(s.fields.team, "Team", "any", "com.atlassian.teams:rm-teams-custom-field-team"))
	}
	// Jira lists fields in no useful order; sort by id so decoys and real
	// fields interleave differently per seed.
	sortByID(out)
	return out
}

func withItems(field map[string]any, items string) map[string]any {
	field["schema"].(map[string]any)["items"] = items
	return field
}

// cloudOnly is v on Cloud and "" on Data Center, whose changelog items
// have no fieldId.
func (s *Server) cloudOnly(v string) string {
	if s.cloud() {
		return v
	}
	return ""
}

// renderOrganizations is the Organizations field: always a list, empty
// when the request has none (not null).
func (s *Server) renderOrganizations(is *Issue) any {
	out := make([]any, 0, len(is.Organizations))
	for _, name := range is.Organizations {
		id := s.orgIDs[name]
		out = append(out, map[string]any{
			"id":     strconv.Itoa(id),
			"name":   name,
			"_links": map[string]any{"self": fmt.Sprintf("%s/rest/servicedeskapi/organization/%d", s.URL, id)},
		})
	}
	return out
}

// renderTeam is the Team field: Cloud's Atlassian team (a UUID id, name and
// title), or Data Center's Advanced Roadmaps team (a numeric id and a
// title, no name). Null without a team.
func (s *Server) renderTeam(team string) any {
	if team == "" {
		return nil
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(team))
	sum := h.Sum64()
	if !s.cloud() {
		return map[string]any{"id": 1 + sum%1000, "title": team, "isShared": true}
	}
	return map[string]any{
		"id":   fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(sum), uint16(sum>>32), sum>>48&0xfff, sum>>20&0xfff, sum&0xffffffffffff),
		"name": team, "title": team, "avatarUrl": "", "isVisible": true, "isVerified": false, "isShared": true,
	}
}

// renderOption is a single-select value, null when unset.
func (s *Server) renderOption(value string) any {
	if value == "" {
		return nil
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(value))
	id := strconv.Itoa(10200 + int(h.Sum32()%800))
	return map[string]any{"self": s.URL + "/rest/api/2/customFieldOption/" + id, "value": value, "id": id}
}

func sortByID(fields []any) {
	sort.Slice(fields, func(i, j int) bool {
		return fields[i].(map[string]any)["id"].(string) < fields[j].(map[string]any)["id"].(string)
	})
}
