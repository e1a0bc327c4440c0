package jira

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// pending is a ticket read from a search page whose changelog, comments or
// rating may still need a request before it is complete.
type pending struct {
	t        ticket.Ticket
	id       int64
	reporter string

	comments      []comment
	commentsTotal int
	// commentsFrom is where the embedded comments start in the full,
	// created-ordered list (search embeds a window of it).
	commentsFrom int

	histories []changelogHistory
	// changelogMore is set when the embedded changelog (Data Center) is
	// shorter than its total.
	changelogMore bool

	needFeedback bool

	skipped skipped
}

// skipped counts the values of one ticket left out of its facts, for
// servicedesk_api_values_skipped_total.
type skipped struct {
	slaErrors, slasWithoutCycles int
	statusChanges                int // left out: a status no rule could place
}

// Reasons of servicedesk_api_values_skipped_total (docs/metrics.md).
const (
	reasonSLAError         = "sla_error"
	reasonSLAWithoutCycles = "sla_without_cycles"
	reasonStatusUnmapped   = "status_unmapped"
)

func (s skipped) report(m *api.Metrics, source string) {
	m.SkipValues(source, reasonSLAError, s.slaErrors)
	m.SkipValues(source, reasonSLAWithoutCycles, s.slasWithoutCycles)
	m.SkipValues(source, reasonStatusUnmapped, s.statusChanges)
}

// Ticket is the facts decoded so far; complete fills in the rest.
func (p *pending) Ticket() *ticket.Ticket { return &p.t }

// decodeIssue turns one search result into a pending ticket. Any value of an
// unexpected shape is an error: the caller skips that ticket, not the page.
// raw is an issue as a page's DecodeBody split it, so valid JSON (see
// rawIssue.decodeBody); split, when not nil, is raw already cut into its
// fields (splitIssues).
func decodeIssue(st *site, raw json.RawMessage, split *rawIssue) (*pending, error) {
	is := split
	if is == nil {
		is = &rawIssue{}
		if err := is.decodeBody(raw); err != nil {
			giveFieldMap(is.Fields)
			return nil, fmt.Errorf("decode issue: %w", err)
		}
	}
	defer func() { giveFieldMap(is.Fields) }()
	if is.ID == "" {
		return nil, errors.New("issue without id")
	}
	id, err := strconv.ParseInt(is.ID, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("issue id %q is not numeric", is.ID)
	}
	p := &pending{id: id, t: ticket.Ticket{ID: is.ID, Key: is.Key}}
	f := fieldReader{fields: is.Fields}

	var created, updated, resolved flexTime
	f.read("created", &created)
	f.read("updated", &updated)
	f.read("resolutiondate", &resolved)
	p.t.Created, p.t.Updated, p.t.ResolvedAt = created.Time, updated.Time, resolved.Time

	var status statusField
	f.read("status", &status)
	p.t.Status = status.Name
	if c, ok := st.category(status.ID); ok {
		p.t.StatusCategory = c
	} else if status.StatusCategory != nil {
		if c, ok := categoryFromKey(status.StatusCategory.Key); ok {
			p.t.StatusCategory = c
		}
	}

	var reporter *user
	f.read("reporter", &reporter)
	p.reporter = reporter.identity()
	p.t.Reporter = p.reporter

	var named struct {
		Name string `json:"name"`
		Key  string `json:"key"`
	}
	if f.read("priority", &named) {
		p.t.Priority = named.Name
	}
	named.Name, named.Key = "", ""
	if f.read("project", &named) {
		p.t.Desk = named.Key
	}

	var cf commentField
	if f.read("comment", &cf) {
		p.comments = cf.Comments
		p.commentsTotal = max(cf.Total, len(cf.Comments))
		p.commentsFrom = cf.StartAt
	}

	decodeSegments(st.segments, &f, &p.t)

	if st.requestType != "" {
		var rt *requestTypeValue
		if f.read(st.requestType, &rt) && rt != nil && rt.RequestType != nil {
			p.t.RequestType = rt.RequestType.Name
		}
	}

	for _, sf := range st.slaFields {
		var v *slaValue
		if !f.read(sf.ID, &v) || v == nil {
			continue // null: the SLA does not apply to this ticket
		}
		// Neither an error object nor an SLA without cycles is an SLA the
		// ticket has: counted as one, it would make the first response
		// wait for a cycle that never comes instead of reading comments.
		switch v.use() {
		case slaError:
			p.skipped.slaErrors++
			continue
		case slaWithoutCycles:
			p.skipped.slasWithoutCycles++
			continue
		}
		sla, err := convertSLA(sf.Name, *v)
		if err != nil {
			f.fail(sf.ID, err)
			continue
		}
		p.t.SLAs = append(p.t.SLAs, sla)
		if st.firstResponseSLA != "" && sla.Name == st.firstResponseSLA {
			// Only tickets that carry the SLA use it; others (SLA not
			// applicable to their request type) fall back to comments.
			p.t.FirstResponseSLA = sla.Name
		}
	}

	if st.satisfaction != "" || st.satisfactionDate != "" {
		var ratedAt flexTime
		if st.satisfactionDate != "" {
			f.read(st.satisfactionDate, &ratedAt)
		}
		value, present, rerr := decodeRating(f.fields[st.satisfaction])
		switch {
		case rerr == nil && present:
			p.t.Satisfaction = &ticket.Rating{Value: value, At: ratedAt.Time}
		case !ratedAt.IsZero():
			// Rated (the date says so) but the value is unreadable or hidden:
			// ask the feedback endpoint for this one ticket.
			p.needFeedback = true
			p.t.Satisfaction = &ticket.Rating{At: ratedAt.Time}
		case rerr != nil:
			f.fail(st.satisfaction, rerr)
		}
	}

	if is.Changelog != nil {
		p.histories = is.Changelog.Histories
		p.changelogMore = is.Changelog.Total > len(is.Changelog.Histories)
	}

	if f.err != nil {
		return nil, f.err
	}
	switch {
	case p.t.Created.IsZero():
		return nil, errors.New("issue has no created time")
	case p.t.Updated.IsZero():
		return nil, errors.New("issue has no updated time")
	case !p.t.StatusCategory.Valid():
		return nil, fmt.Errorf("status %q (id %s) has no known category", status.Name, status.ID)
	}
	return p, nil
}

// fieldMaps recycles the maps an issue's fields are split into: nothing
// decoded keeps them, and a new one per issue was a twentieth of a sync's
// allocations. decodeIssue gives an issue's map back.
var fieldMaps = sync.Pool{New: func() any { return make(map[string]json.RawMessage, 32) }}

func takeFieldMap() map[string]json.RawMessage { return fieldMaps.Get().(map[string]json.RawMessage) }

func giveFieldMap(m map[string]json.RawMessage) {
	if m == nil || len(m) > 256 { // an odd huge issue's map is left to the collector
		return
	}
	clear(m)
	fieldMaps.Put(m)
}

// fieldReader decodes issue fields, keeping the first error with the field
// it came from.
type fieldReader struct {
	fields map[string]json.RawMessage
	err    error
}

// read decodes field name into out and reports whether it held a value.
func (r *fieldReader) read(name string, out any) bool {
	raw, ok := r.fields[name]
	if !ok || len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return false
	}
	if err := unmarshalTrusted(raw, out); err != nil { // split from a validated page
		r.fail(name, err)
		return false
	}
	return true
}

func (r *fieldReader) fail(name string, err error) {
	if r.err == nil {
		r.err = fmt.Errorf("field %s: %w", name, err)
	}
}

// convertSLA turns a JSM SLA value into facts. The SLA is named after its
// field so first_response_sla matches whatever the site calls it.
func convertSLA(fieldName string, v slaValue) (ticket.SLA, error) {
	name := fieldName
	if name == "" {
		name = v.Name
	}
	out := ticket.SLA{Name: name}
	for i, c := range v.CompletedCycles {
		start, err := c.StartTime.time()
		if err != nil {
			return out, fmt.Errorf("completed cycle %d start: %w", i, err)
		}
		stop, err := c.StopTime.time()
		if err != nil {
			return out, fmt.Errorf("completed cycle %d stop: %w", i, err)
		}
		out.Completed = append(out.Completed, ticket.SLACycle{
			Start:    start,
			Stop:     stop,
			Goal:     c.GoalDuration.duration(),
			Elapsed:  c.ElapsedTime.duration(),
			Breached: c.Breached,
		})
	}
	if o := v.OngoingCycle; o != nil {
		start, err := o.StartTime.time()
		if err != nil {
			return out, fmt.Errorf("ongoing cycle start: %w", err)
		}
		breachAt, err := o.BreachTime.time()
		if err != nil {
			return out, fmt.Errorf("ongoing cycle breach time: %w", err)
		}
		remaining := o.RemainingTime.duration()
		out.Ongoing = &ticket.OngoingCycle{
			Start:     start,
			Goal:      o.GoalDuration.duration(),
			Elapsed:   o.ElapsedTime.duration(),
			Remaining: remaining,
			BreachAt:  breachAt,
			Breached:  o.Breached || remaining < 0,
			Paused:    o.Paused,
		}
	}
	return out, nil
}

// decodeRating reads a satisfaction value: null, a number, a numeric string,
// or an object holding one under rating (or value). raw is valid JSON (a
// field of a validated page, a decoded feedback answer): an object is
// read where it lies, the last of duplicate members winning as in a map.
func decodeRating(raw json.RawMessage) (int, bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false, nil
	}
	var n float64
	switch raw[0] {
	case '{':
		var rating, value []byte
		_, err := eachTrustedMember(raw, 0, func(key []byte, at int) (int, error) {
			end := skipValid(raw, at)
			switch string(key) {
			case "rating":
				rating = raw[at:end]
			case "value":
				value = raw[at:end]
			}
			return end, nil
		})
		if err != nil {
			return 0, false, err
		}
		for _, inner := range [][]byte{rating, value} {
			if inner != nil {
				return decodeRating(inner)
			}
		}
		return 0, false, errors.New("satisfaction object has no rating")
	case '"':
		var s string
		if err := decodeString(raw, &s); err != nil {
			return 0, false, err
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return 0, false, fmt.Errorf("satisfaction %q is not a number", s)
		}
		n = v
	default:
		v, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || (raw[0] != '-' && !isDigit(raw[0])) {
			return 0, false, fmt.Errorf("satisfaction %s is not a number", raw)
		}
		n = v
	}
	if n != math.Trunc(n) || n < 1 || n > 5 {
		return 0, false, fmt.Errorf("satisfaction %v is not a rating 1..5", n)
	}
	return int(n), true, nil
}

// changes are a ticket's status and resolution history as facts.
type changes struct {
	transitions []ticket.Transition
	resolutions []ticket.ResolutionChange
	// unlisted are status ids that neither the site's status list nor its
	// status names know (reading the list again may help).
	unlisted []string
	// unmapped counts status changes left out: a side no rule could place.
	unmapped int
}

// statusLookup places changelog status ids in categories: by the site's
// list, else by the item's status name against the site's names (statuses
// deleted or migrated keep their names in old histories), else by what
// the ticket's resolution changes showed about the id.
type statusLookup struct {
	byID, byName map[string]ticket.Category
	learned      map[string]ticket.Category
	conflicting  map[string]bool
}

// listed places id by the site's list and names only.
func (l *statusLookup) listed(id string, name flexString) (ticket.Category, bool) {
	if c, ok := l.byID[id]; ok {
		return c, true
	}
	if key := statusName(name.Value); key != "" {
		c, ok := l.byName[key]
		return c, ok
	}
	return "", false
}

func (l *statusLookup) category(id string, name flexString) (ticket.Category, bool) {
	if c, ok := l.listed(id, name); ok {
		return c, true
	}
	c, ok := l.learned[id]
	return c, ok
}

// learn records what a resolution change says of an unlisted status: done
// or not. An id seen on both sides of that line says nothing.
func (l *statusLookup) learn(id string, name flexString, done bool) {
	if id == "" || l.conflicting[id] {
		return
	}
	if _, ok := l.listed(id, name); ok {
		return
	}
	c := ticket.CategoryIndeterminate // not done; which open category is unknown
	if done {
		c = ticket.CategoryDone
	}
	if prev, ok := l.learned[id]; ok && (prev == ticket.CategoryDone) != done {
		delete(l.learned, id)
		if l.conflicting == nil {
			l.conflicting = map[string]bool{}
		}
		l.conflicting[id] = true
		return
	}
	if l.learned == nil {
		l.learned = map[string]ticket.Category{} // only histories naming unlisted statuses pay for it
	}
	l.learned[id] = c
}

// changeFacts turns status and resolution history into transitions and
// resolution changes, oldest first. byID and byName are the site's
// statuses; an id in neither is placed by the resolution changes of the
// ticket's histories: a status entered while the resolution was set is
// done, one left then is not, and the other way round when it was cleared.
func changeFacts(histories []changelogHistory, byID, byName map[string]ticket.Category) changes {
	sorted := append([]changelogHistory(nil), histories...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if !sorted[i].Created.Equal(sorted[j].Created.Time) {
			return sorted[i].Created.Before(sorted[j].Created.Time)
		}
		return numericLess(sorted[i].ID, sorted[j].ID)
	})
	unique := sorted[:0]
	seen := map[string]bool{}
	for _, h := range sorted {
		if seen[h.ID] && h.ID != "" {
			continue // bulkfetch pages and per-issue pages may overlap
		}
		seen[h.ID] = true
		unique = append(unique, h)
	}

	lookup := statusLookup{byID: byID, byName: byName}
	for _, h := range unique {
		set, resolved := false, false
		for _, it := range h.Items {
			if itemField(it) == "resolution" {
				set, resolved = resolutionSet(it), true
			}
		}
		if !resolved {
			continue
		}
		for _, it := range h.Items {
			if itemField(it) == "status" {
				lookup.learn(it.From.Value, it.FromString, !set)
				lookup.learn(it.To.Value, it.ToString, set)
			}
		}
	}

	var out changes
	for _, h := range unique {
		for _, it := range h.Items {
			switch itemField(it) {
			case "status":
				for _, side := range []struct {
					id   string
					name flexString
				}{{it.From.Value, it.FromString}, {it.To.Value, it.ToString}} {
					if _, ok := lookup.listed(side.id, side.name); !ok && side.id != "" && !slices.Contains(out.unlisted, side.id) {
						out.unlisted = append(out.unlisted, side.id)
					}
				}
				from, okFrom := lookup.category(it.From.Value, it.FromString)
				to, okTo := lookup.category(it.To.Value, it.ToString)
				if !okFrom || !okTo {
					out.unmapped++
					continue
				}
				// Changes within a category count for nothing in the
				// category rules but are kept with their names: SLA
				// policies pause in named statuses.
				out.transitions = append(out.transitions, ticket.Transition{At: h.Created.Time, From: from, To: to,
					FromStatus: it.FromString.Value, ToStatus: it.ToString.Value})
			case "resolution":
				out.resolutions = append(out.resolutions, ticket.ResolutionChange{At: h.Created.Time, Set: resolutionSet(it)})
			}
		}
	}
	return out
}

func itemField(it changelogItem) string {
	if it.FieldID != "" {
		return strings.ToLower(it.FieldID)
	}
	return strings.ToLower(it.Field)
}

func resolutionSet(it changelogItem) bool {
	return (it.To.Set && it.To.Value != "") || (it.ToString.Set && it.ToString.Value != "")
}

// endInDone adds the last entry into done to a done ticket whose status
// timeline does not end there: the changelog names a status no rule could
// place, or Jira kept no record of the change. The resolution date says
// when (at the last known change if it is earlier), so a done ticket with
// a resolution date always has its resolution.
//
// A timeline that already holds a resolution and changed after the
// resolution date is newer than the search copy the status and date came
// from — the ticket was reopened between the search and the changelog
// request — so it is trusted as it is: an entry added there would count a
// resolution that never happened, for good.
func endInDone(t *ticket.Ticket) {
	if t.StatusCategory != ticket.CategoryDone || t.ResolvedAt.IsZero() || len(t.Transitions) == 0 {
		return // without transitions ticket derives the resolution from ResolvedAt itself
	}
	last := t.Transitions[len(t.Transitions)-1]
	if last.To == ticket.CategoryDone {
		return
	}
	resolvedBefore := slices.ContainsFunc(t.Transitions, func(tr ticket.Transition) bool {
		return tr.To == ticket.CategoryDone && tr.From != ticket.CategoryDone
	})
	if resolvedBefore && !t.ResolvedAt.After(last.At) {
		return
	}
	at := t.ResolvedAt
	if at.Before(last.At) {
		at = last.At
	}
	t.Transitions = append(t.Transitions, ticket.Transition{At: at, From: last.To, To: ticket.CategoryDone})
}

func numericLess(a, b string) bool {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	if errA == nil && errB == nil {
		return x < y
	}
	return a < b
}

// authorRole classifies a comment's author.
func authorRole(c comment, reporter string, automation map[string]bool) ticket.Author {
	a := c.Author
	if a == nil {
		return ticket.AuthorAutomation // anonymous: not a person answering
	}
	switch {
	case reporter != "" && a.identity() == reporter:
		return ticket.AuthorReporter
	case strings.EqualFold(a.AccountType, "app"),
		automation[a.AccountID] && a.AccountID != "",
		automation[a.Name] && a.Name != "",
		automation[a.Key] && a.Key != "":
		return ticket.AuthorAutomation
	case strings.EqualFold(a.AccountType, "customer"):
		// Another customer (a request participant) is on the customer's
		// side of the conversation, never a response to it.
		return ticket.AuthorReporter
	}
	return ticket.AuthorAgent
}

// commentPublic reads whether customers see a comment: Cloud's jsdPublic,
// else JSM's rule: an internal comment carries the sd.public.comment
// property {"internal": true}, a comment without it is public. That rule
// decides only where properties were asked for (expand=properties) or came
// anyway; known is false for a comment with neither, as Data Center comments
// embedded in search results are.
func commentPublic(c comment) (public, known bool) {
	if c.JSDPublic != nil {
		return *c.JSDPublic, true
	}
	for _, p := range c.Properties {
		if p.Key != "sd.public.comment" {
			continue
		}
		var v struct {
			Internal json.RawMessage `json:"internal"`
		}
		if json.Unmarshal(p.Value, &v) == nil {
			s := strings.Trim(string(bytes.TrimSpace(v.Internal)), `"`)
			return !strings.EqualFold(s, "true"), true
		}
	}
	return true, c.expanded || c.Properties != nil
}

// commentState is what the comments read so far say about the first response.
type commentState struct {
	answered bool // a public agent comment is among them
	// unsure: an agent comment comes first whose visibility is unknown, so
	// the comments must be re-read with their properties.
	unsure bool
}

// applyComments converts the raw comments to facts (oldest first, each
// comment once) and reports what they say about the first response.
func (p *pending) applyComments(automation map[string]bool) commentState {
	byID := make(map[string]int, len(p.comments))
	var unique []comment
	for _, c := range p.comments {
		if i, ok := byID[c.ID]; ok && c.ID != "" {
			// A re-read with properties knows more than the search copy.
			if _, known := commentPublic(c); known {
				unique[i] = c
			}
			continue
		}
		byID[c.ID] = len(unique)
		unique = append(unique, c)
	}
	sort.SliceStable(unique, func(i, j int) bool {
		if !unique[i].Created.Equal(unique[j].Created.Time) {
			return unique[i].Created.Before(unique[j].Created.Time)
		}
		return numericLess(unique[i].ID, unique[j].ID)
	})
	p.comments = unique
	p.t.Comments = make([]ticket.Comment, 0, len(unique))
	var state commentState
	for _, c := range unique {
		public, known := commentPublic(c)
		fact := ticket.Comment{At: c.Created.Time, Author: authorRole(c, p.reporter, automation), Public: public}
		if fact.Author == ticket.AuthorAgent && !state.answered {
			if !known {
				state.unsure = true
				// Until confirmed, an unknown agent comment is not counted
				// as a response.
				fact.Public = false
			} else if public && !state.unsure {
				state.answered = true
			}
		}
		p.t.Comments = append(p.t.Comments, fact)
	}
	return state
}

// needsMoreComments says whether the comments seen so far cannot decide the
// first response and Jira can tell more.
func (p *pending) needsMoreComments(state commentState) bool {
	if p.t.FirstResponseSLA != "" || state.answered {
		return false
	}
	return state.unsure || p.commentsTotal > len(p.comments)
}
