package fakejira

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Mutations change the data like real Jira does: each bumps the issue's
// updated time to Now and, where Jira would, adds changelog entries and
// moves the SLA clocks. They invalidate cached query results.

// Users the mutations use when a test does not name one.
var (
	DefaultAgent      = User{AccountID: "5b10ac8d82e05b22cc7d4ef5", DisplayName: "Alex Agent", Role: RoleAgent}
	DefaultAutomation = User{AccountID: "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", DisplayName: "Automation for Jira", Role: RoleAutomation}
)

// DefaultSLAGoals are the goals CreateIssue gives the default SLAs.
var DefaultSLAGoals = map[string]time.Duration{
	SLATimeToFirstResponse: 4 * time.Hour,
	SLATimeToResolution:    48 * time.Hour,
}

// NewIssue describes an issue for CreateIssue.
type NewIssue struct {
	Project     string // required
	RequestType string
	Priority    string
	Summary     string
	Reporter    User // default: a customer derived from the key
	// Organizations and Team start the issue's segments; no assignee.
	Organizations []string
	Team          string
	// SLAGoals starts an ongoing cycle per SLA name. Nil means DefaultSLAGoals
	// for the site's SLA names; an empty non-nil map means no SLA applies.
	SLAGoals map[string]time.Duration
}

// Add loads issues as they are (history, comments, SLAs and all). Zero ids
// and empty keys are assigned; comment and history ids too. It is how the
// generator's output and hand-made fixtures get into the server.
func (s *Server) Add(issues ...Issue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range issues {
		is := cloneIssue(&issues[i])
		s.insert(&is)
	}
	s.version++
}

// insert registers one issue. Called with s.mu held.
func (s *Server) insert(is *Issue) {
	is.Project = strings.ToUpper(is.Project)
	p := s.projects[is.Project]
	if p == nil {
		p = &project{key: is.Project, id: 10000 + int64(len(s.projects)), deskID: len(s.projects) + 1, nextNum: 1}
		s.projects[is.Project] = p
	}
	if is.ID == 0 {
		is.ID = s.nextIssueID
	}
	s.nextIssueID = max(s.nextIssueID, is.ID+1)
	if is.Key == "" {
		is.Key = fmt.Sprintf("%s-%d", is.Project, p.nextNum)
	}
	p.nextNum = max(p.nextNum, keyNumber(is.Key)+1)
	if is.StatusID == "" {
		is.StatusID = StatusWaitingForSupport
	}
	if is.Updated.IsZero() {
		is.Updated = is.Created
	}
	if is.Reporter.AccountID == "" {
		is.Reporter = User{AccountID: "qm:" + strings.ToLower(is.Key), DisplayName: "Customer " + is.Key, Role: RoleCustomer}
	}
	s.registerOrganizations(is.Organizations)
	if is.RequestType != "" {
		rtKey := is.Project + "/" + is.RequestType
		if _, ok := s.requestTypes[rtKey]; !ok {
			s.requestTypes[rtKey] = fmt.Sprint(len(s.requestTypes) + 1)
		}
	}
	for i := range is.Histories {
		s.nextChildID = max(s.nextChildID, is.Histories[i].ID)
	}
	for i := range is.Comments {
		s.nextChildID = max(s.nextChildID, is.Comments[i].ID)
	}
	for i := range is.Histories {
		if is.Histories[i].ID == 0 {
			is.Histories[i].ID = s.childID()
		}
	}
	for i := range is.Comments {
		if is.Comments[i].ID == 0 {
			is.Comments[i].ID = s.childID()
		}
	}
	if old := s.byID[is.ID]; old != nil {
		delete(s.byKey, old.Key)
		s.issues = slices.DeleteFunc(s.issues, func(x *Issue) bool { return x.ID == is.ID })
	}
	s.byID[is.ID] = is
	s.byKey[is.Key] = is
	at, _ := slices.BinarySearchFunc(s.issues, is.ID, func(x *Issue, id int64) int { return int64Cmp(x.ID, id) })
	s.issues = slices.Insert(s.issues, at, is)
}

func (s *Server) childID() int64 {
	s.nextChildID++
	return s.nextChildID
}

// CreateIssue creates an issue at Now in "Waiting for support" and returns
// its key.
func (s *Server) CreateIssue(n NewIssue) string {
	now := s.opts.Now()
	is := Issue{Project: n.Project, RequestType: n.RequestType, Priority: n.Priority, Summary: n.Summary,
		Reporter: n.Reporter, Created: now, Updated: now, StatusID: StatusWaitingForSupport,
		Organizations: slices.Clone(n.Organizations), Team: n.Team}
	goals := n.SLAGoals
	if goals == nil {
		goals = map[string]time.Duration{}
		for _, name := range s.opts.SLANames {
			if g, ok := DefaultSLAGoals[name]; ok {
				goals[name] = g
			} else {
				goals[name] = 24 * time.Hour
			}
		}
	}
	for _, name := range sortedKeys(goals) {
		is.SLAs = append(is.SLAs, SLA{Name: name, Ongoing: &SLAOngoing{Start: now, Goal: goals[name], WithinCalendarHours: true}})
	}
	if s.opts.IndexLag > 0 {
		is.indexedUntil = now.Add(s.opts.IndexLag)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.insert(&is)
	s.version++
	return is.Key
}

// mutate runs fn on one issue under the lock and bumps updated to Now.
func (s *Server) mutate(key string, fn func(is *Issue, now time.Time) error) error {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(key)
	if is == nil {
		return fmt.Errorf("fakejira: no issue %s", key)
	}
	// With a lag the index keeps the version it last saw until it catches up.
	var before *Issue
	if s.opts.IndexLag > 0 && !now.Before(is.indexedUntil) {
		prev := cloneIssue(is)
		before = &prev
	}
	if err := fn(is, now); err != nil {
		return err
	}
	if s.opts.IndexLag > 0 {
		if before != nil {
			is.indexed = before
		}
		is.indexedUntil = now.Add(s.opts.IndexLag)
	}
	is.Updated = now
	s.version++
	return nil
}

// Mutate applies fn to an issue, then sets updated to Now. Use it for edits
// the named mutations do not cover.
func (s *Server) Mutate(key string, fn func(is *Issue)) error {
	return s.mutate(key, func(is *Issue, _ time.Time) error { fn(is); return nil })
}

// AddComment adds a comment at Now. RoleCustomer writes as the reporter,
// RoleAgent as DefaultAgent, RoleAutomation as DefaultAutomation. A public
// agent comment completes a running "Time to first response" cycle, as the
// default JSM SLA does.
func (s *Server) AddComment(key string, role Role, public bool) error {
	return s.mutate(key, func(is *Issue, now time.Time) error {
		author := authorFor(is, role)
		s.appendComment(is, author, public, now)
		return nil
	})
}

// authorFor is who writes as role on is: the reporter for RoleCustomer,
// DefaultAutomation for RoleAutomation, DefaultAgent otherwise.
func authorFor(is *Issue, role Role) User {
	switch role {
	case RoleCustomer:
		return is.Reporter
	case RoleAutomation:
		return DefaultAutomation
	}
	return DefaultAgent
}

// AddCommentBy adds a comment at Now by a given user.
func (s *Server) AddCommentBy(key string, author User, public bool) error {
	return s.mutate(key, func(is *Issue, now time.Time) error {
		s.appendComment(is, author, public, now)
		return nil
	})
}

// AddComments adds n comments at Now in one go (the 10,000-comment ticket).
func (s *Server) AddComments(key string, n int, role Role, public bool) error {
	return s.mutate(key, func(is *Issue, now time.Time) error {
		author := authorFor(is, role)
		is.Comments = slices.Grow(is.Comments, n)
		for range n {
			s.appendComment(is, author, public, now)
		}
		return nil
	})
}

func (s *Server) appendComment(is *Issue, author User, public bool, now time.Time) {
	addComment(is, author, public, now, s.childID())
}

// addComment is the shared comment logic of AddComment and the generator.
func addComment(is *Issue, author User, public bool, now time.Time, id int64) {
	visibility := "internal note"
	if public {
		visibility = "reply"
	}
	is.Comments = append(is.Comments, Comment{ID: id, Author: author, Created: now, Public: public,
		Body: fmt.Sprintf("%s %s by %s", is.Key, visibility, author.DisplayName)})
	if public && author.Role == RoleAgent && author.AccountID != is.Reporter.AccountID {
		completeCycle(is.sla(SLATimeToFirstResponse), now)
	}
}

// completeCycle stops a running SLA cycle at now.
func completeCycle(sla *SLA, now time.Time) {
	if sla == nil || sla.Ongoing == nil {
		return
	}
	o := sla.Ongoing
	o.resume(now)
	elapsed := o.Elapsed(now)
	sla.Completed = append(sla.Completed, SLACycle{Start: o.Start, Stop: now, Goal: o.Goal, Elapsed: elapsed, Breached: elapsed > o.Goal})
	sla.Ongoing = nil
}

// Transition moves an issue to a status at Now, writing the changelog like
// Jira: entering a done status sets resolution "Done" and resolutiondate,
// leaving done clears both. The SLAs follow JSM's defaults: "Waiting for
// customer" pauses the resolution clock, resolving completes the running
// first-response and resolution cycles, reopening starts a new resolution
// cycle.
func (s *Server) Transition(key, statusID string) error {
	to, ok := StatusByID(statusID)
	if !ok {
		return fmt.Errorf("fakejira: unknown status %s", statusID)
	}
	return s.mutate(key, func(is *Issue, now time.Time) error {
		if is.StatusID == to.ID {
			return fmt.Errorf("fakejira: %s is already in %s", is.Key, to.Name)
		}
		transition(is, to, DefaultAgent, now, s.childID())
		return nil
	})
}

// transition is the shared state machine of Transition and the generator.
func transition(is *Issue, to Status, author User, now time.Time, historyID int64) {
	from, _ := StatusByID(is.StatusID)
	if from.ID == to.ID {
		return
	}
	h := History{ID: historyID, At: now, Author: author, Items: []HistoryItem{{Field: "status", From: from.ID, FromString: from.Name, To: to.ID, ToString: to.Name}}}
	if ttr := is.sla(SLATimeToResolution); ttr != nil && ttr.Ongoing != nil {
		if to.ID == StatusWaitingForCustomer {
			ttr.Ongoing.pause(now)
		} else {
			ttr.Ongoing.resume(now)
		}
	}
	wasDone, isDone := from.Category == CategoryDone, to.Category == CategoryDone
	switch {
	case !wasDone && isDone:
		h.Items = append(h.Items, HistoryItem{Field: "resolution", To: "10000", ToString: "Done"})
		is.Resolution = "Done"
		is.ResolutionDate = now
		completeCycle(is.sla(SLATimeToFirstResponse), now)
		completeCycle(is.sla(SLATimeToResolution), now)
	case wasDone && !isDone:
		h.Items = append(h.Items, HistoryItem{Field: "resolution", From: "10000", FromString: is.Resolution})
		is.Resolution = ""
		is.ResolutionDate = time.Time{}
		if ttr := is.sla(SLATimeToResolution); ttr != nil && ttr.Ongoing == nil {
			goal := DefaultSLAGoals[SLATimeToResolution]
			if n := len(ttr.Completed); n > 0 {
				goal = ttr.Completed[n-1].Goal
			}
			ttr.Ongoing = &SLAOngoing{Start: now, Goal: goal, WithinCalendarHours: true}
		}
	}
	is.StatusID = to.ID
	is.Histories = append(is.Histories, h)
}

// Rate gives (or changes) the satisfaction rating at Now.
func (s *Server) Rate(key string, rating int) error {
	return s.mutate(key, func(is *Issue, now time.Time) error {
		is.Ratings = append(is.Ratings, Rating{Value: rating, At: now})
		is.SatisfactionRaw = nil
		return nil
	})
}

// SetSatisfactionRaw makes the Satisfaction field render as raw (a bare
// number, a string, an object without rating); nil restores the normal
// rendering. raw must be valid JSON: Jira never sends a broken document
// (use FaultTruncate for that).
func (s *Server) SetSatisfactionRaw(key string, raw json.RawMessage) error {
	if raw != nil && !json.Valid(raw) {
		return fmt.Errorf("fakejira: satisfaction %q is not JSON", raw)
	}
	return s.mutate(key, func(is *Issue, _ time.Time) error {
		is.SatisfactionRaw = raw
		return nil
	})
}

// SetSLA replaces (or adds) the SLA with sla.Name.
func (s *Server) SetSLA(key string, sla SLA) error {
	return s.mutate(key, func(is *Issue, _ time.Time) error {
		is.SLAErrors = slices.DeleteFunc(is.SLAErrors, func(name string) bool { return name == sla.Name })
		if cur := is.sla(sla.Name); cur != nil {
			*cur = sla
		} else {
			is.SLAs = append(is.SLAs, sla)
		}
		return nil
	})
}

// SetSLAError makes the SLA field named name render as JSM's error object
// (sd.jsm.agent.servicedesk.error.servicedesk.missing) and drops the SLA
// of that name, as when the issue is not in a service project. SetSLA with
// the name undoes it.
func (s *Server) SetSLAError(key, name string) error {
	if _, ok := s.fields.sla[name]; !ok {
		return fmt.Errorf("fakejira: the site has no SLA field %q", name)
	}
	return s.mutate(key, func(is *Issue, _ time.Time) error {
		is.SLAs = slices.DeleteFunc(is.SLAs, func(sla SLA) bool { return sla.Name == name })
		if !slices.Contains(is.SLAErrors, name) {
			is.SLAErrors = append(is.SLAErrors, name)
		}
		return nil
	})
}

// SetOrganizations replaces the customer organizations of an issue at Now,
// writing the change to the changelog as Jira does for a custom field.
func (s *Server) SetOrganizations(key string, names ...string) error {
	return s.mutate(key, func(is *Issue, now time.Time) error {
		s.registerOrganizations(names)
		item := HistoryItem{Field: HistoryOrganizations,
			From: s.organizationIDs(is.Organizations), FromString: strings.Join(is.Organizations, ", "),
			To: s.organizationIDs(names), ToString: strings.Join(names, ", "),
			FromValues: slices.Clone(is.Organizations), ToValues: slices.Clone(names)}
		is.Histories = append(is.Histories, History{ID: s.childID(), At: now, Author: DefaultAgent, Items: []HistoryItem{item}})
		is.Organizations = slices.Clone(names)
		return nil
	})
}

// Reassign hands an issue to another team and assignee at Now (nil: to
// nobody), one changelog entry with an item per changed field.
func (s *Server) Reassign(key, team string, assignee *User) error {
	return s.mutate(key, func(is *Issue, now time.Time) error {
		h := History{ID: s.childID(), At: now, Author: DefaultAgent}
		if team != is.Team {
			h.Items = append(h.Items, HistoryItem{Field: HistoryTeam, From: is.Team, FromString: is.Team, To: team, ToString: team})
			is.Team = team
		}
		if accountOf(assignee) != accountOf(is.Assignee) {
			h.Items = append(h.Items, assigneeItem(is.Assignee, assignee))
			is.Assignee = cloneUser(assignee)
		}
		if len(h.Items) == 0 {
			return fmt.Errorf("fakejira: %s already has team %q and that assignee", is.Key, team)
		}
		is.Histories = append(is.Histories, h)
		return nil
	})
}

func assigneeItem(from, to *User) HistoryItem {
	item := HistoryItem{Field: HistoryAssignee}
	if from != nil {
		item.From, item.FromString = from.AccountID, from.DisplayName
	}
	if to != nil {
		item.To, item.ToString = to.AccountID, to.DisplayName
	}
	return item
}

func accountOf(u *User) string {
	if u == nil {
		return ""
	}
	return u.AccountID
}

func cloneUser(u *User) *User {
	if u == nil {
		return nil
	}
	cp := *u
	return &cp
}

// registerOrganizations numbers organizations in order of first use, as
// JSM gives them ids when they are created. Called with s.mu held.
func (s *Server) registerOrganizations(names []string) {
	for _, n := range names {
		if _, ok := s.orgIDs[n]; !ok {
			s.orgIDs[n] = len(s.orgIDs) + 1
		}
	}
}

func (s *Server) organizationIDs(names []string) string {
	ids := make([]string, len(names))
	for i, n := range names {
		ids[i] = strconv.Itoa(s.orgIDs[n])
	}
	return strings.Join(ids, ", ")
}

// Issue returns a copy of an issue by id or key.
func (s *Server) Issue(idOrKey string) (Issue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(idOrKey)
	if is == nil {
		return Issue{}, false
	}
	return cloneIssue(is), true
}

// Issues returns copies of all issues in id order.
func (s *Server) Issues() []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Issue, 0, len(s.issues))
	for _, is := range s.issues {
		out = append(out, cloneIssue(is))
	}
	return out
}

// Len is the number of issues.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.issues)
}

func cloneIssue(is *Issue) Issue {
	cp := *is
	cp.indexed, cp.indexedUntil = nil, time.Time{}
	cp.Histories = slices.Clone(is.Histories)
	cp.Comments = slices.Clone(is.Comments)
	cp.Ratings = slices.Clone(is.Ratings)
	cp.SLAErrors = slices.Clone(is.SLAErrors)
	cp.Organizations = slices.Clone(is.Organizations)
	cp.Assignee = cloneUser(is.Assignee)
	cp.SLAs = make([]SLA, len(is.SLAs))
	for i, sla := range is.SLAs {
		cp.SLAs[i] = sla
		cp.SLAs[i].Completed = slices.Clone(sla.Completed)
		if sla.Ongoing != nil {
			o := *sla.Ongoing
			cp.SLAs[i].Ongoing = &o
		}
	}
	return cp
}
