package rt

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// Reasons of servicedesk_api_values_skipped_total (docs/metrics.md).
const (
	// reasonStatusUnmapped: a status change naming a status no lifecycle
	// in rt.lifecycles has, left out of the timeline.
	reasonStatusUnmapped = "status_unmapped"
	// reasonRatingInvalid: a satisfaction value that is not a whole
	// number 1..5, no rating.
	reasonRatingInvalid = "rating_invalid"
)

// historyTickets is how many tickets one transaction search covers, which
// keeps its URL short enough for any front end (about 2.5 kB).
const historyTickets = 100

// txnFields are the transaction columns the facts need; Creator's id is
// the user name.
const txnFields = "ObjectId,Type,Field,OldValue,NewValue,Created,Creator"

// complete reads the whole history of the batch's tickets in bulk — one
// transaction search per historyTickets tickets, paged by keyset — looks
// up who is privileged among those who replied, and turns the history into
// facts. A delivered ticket replaces the stored one, so every ticket gets
// all of its history, not only what changed since the last poll.
func (s *Source) complete(ctx context.Context, c *api.Client, st *site, batch []*pending) error {
	byID := make(map[int64]*pending, len(batch))
	ids := make([]int64, 0, len(batch))
	for _, p := range batch {
		if _, dup := byID[p.id]; !dup {
			ids = append(ids, p.id)
		}
		byID[p.id] = p
	}
	slices.Sort(ids)
	history := make(map[int64][]restTxn, len(ids))
	for start := 0; start < len(ids); start += historyTickets {
		chunk := ids[start:min(start+historyTickets, len(ids))]
		if err := s.transactions(ctx, c, st, chunk, func(x restTxn) {
			history[int64(x.ObjectID)] = append(history[int64(x.ObjectID)], x)
		}); err != nil {
			return err
		}
	}
	privileged, err := s.privileged(ctx, c, s.toClassify(byID, history))
	if err != nil {
		return err
	}
	for _, id := range ids {
		s.applyHistory(byID[id], history[id], st, privileged)
	}
	return nil
}

// transactionSQL selects the transactions of tickets that the facts use.
// Naming the types (rather than "Type != 'EmailRecord'") keeps out what
// the facts never read — creation, owner, subject, link changes — so that
// fewer pages are read, and so that every
// row matched is visible to an agent with ShowTicketComments and
// SeeCustomField: REST2 drops rows the user may not see after cutting the
// page, and a short page would end the walk early (REST2.md).
func transactionSQL(ids []int64, st *site) string {
	types := []string{"Type = 'Correspond'", "Type = 'Comment'", "Type = 'Status'"}
	if len(st.satisfactionIDs) > 0 {
		fields := make([]string, len(st.satisfactionIDs))
		for i, id := range st.satisfactionIDs {
			fields[i] = "Field = '" + strconv.FormatInt(id, 10) + "'"
		}
		types = append(types, "(Type = 'CustomField' AND ("+strings.Join(fields, " OR ")+"))")
	}
	return "ObjectType = 'RT::Ticket' AND " + idSet(ids) + " AND (" + strings.Join(types, " OR ") + ")"
}

// transactions walks the transaction search of ids in id order, a full
// page at a time, until a short page.
func (s *Source) transactions(ctx context.Context, c *api.Client, st *site, ids []int64, each func(restTxn)) error {
	base := transactionSQL(ids, st)
	var after int64
	for page := 0; ; page++ {
		if page >= s.cfg.MaxPages {
			return fmt.Errorf("ticket histories needed more than %d pages for one batch (rt.max_pages)", s.cfg.MaxPages)
		}
		q := url.Values{
			"query":    {afterID(base, after)},
			"orderby":  {"id"},
			"order":    {"ASC"},
			"per_page": {strconv.Itoa(perPage)},
			"fields":   {txnFields},
		}
		var coll collection
		if err := c.Do(ctx, api.Request{Endpoint: endpointTransactions, Method: http.MethodGet, Path: restPrefix + "transactions", Query: q}, &coll); err != nil {
			return fmt.Errorf("read ticket histories: %w", s.explain(err))
		}
		for _, raw := range coll.Items {
			var x restTxn
			if err := json.Unmarshal(raw, &x); err != nil {
				return fmt.Errorf("read ticket histories: transaction: %w", err)
			}
			each(x)
			after = max(after, int64(x.ID))
		}
		if len(coll.Items) < max(coll.PerPage, 1) {
			return nil
		}
	}
}

// toClassify lists, sorted, who wrote a reply or comment without being a
// requestor, RT_System or an automation user: only for them does it
// matter whether they are privileged.
func (s *Source) toClassify(byID map[int64]*pending, history map[int64][]restTxn) []string {
	seen := map[string]bool{}
	for id, txns := range history {
		p := byID[id]
		if p == nil {
			continue
		}
		for _, x := range txns {
			name := x.Creator.Name
			if (x.Type == "Correspond" || x.Type == "Comment") && name != "" && !s.automation[name] && !p.requestors[name] {
				seen[name] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// applyHistory turns a ticket's transactions into facts:
//
//   - Status changes are the status timeline, with names and the categories
//     of the ticket's lifecycle: into an inactive status is a resolution, out
//     of one a reopen (RT_System's reopen after a requestor's mail included);
//   - a Correspond is public, a Comment internal. Its author is automation
//     for RT_System and rt.automation_users, the reporter for a requestor of
//     the ticket (a privileged one too), an agent for any other privileged
//     user, and the reporter's side for an unprivileged non-requestor (a Cc);
//   - the satisfaction rating is the value of the field's last change, at
//     that change's time; a changed rating is a new rating.
func (s *Source) applyHistory(p *pending, txns []restTxn, st *site, privileged map[string]bool) {
	slices.SortFunc(txns, func(a, b restTxn) int { return cmp.Compare(a.ID, b.ID) })
	t := &p.t
	t.Transitions, t.Comments, t.Satisfaction = nil, nil, nil
	var lastRating *restTxn
	for i := range txns {
		x := &txns[i]
		switch x.Type {
		case "Status":
			if tr, ok := s.transition(p, x); ok {
				t.Transitions = append(t.Transitions, tr)
			} else {
				s.metrics.SkipValues(s.name, reasonStatusUnmapped, 1)
			}
		case "Correspond", "Comment":
			t.Comments = append(t.Comments, ticket.Comment{
				At: x.Created.Time, Public: x.Type == "Correspond", Author: s.author(p, x.Creator.Name, privileged),
			})
		case "CustomField":
			if slices.Contains(st.satisfactionIDs, fieldID(x.Field)) {
				lastRating = x
			}
		}
	}
	if lastRating != nil {
		t.Satisfaction = s.rating(p, lastRating)
	}
}

func fieldID(field string) int64 {
	id, err := strconv.ParseInt(strings.TrimSpace(field), 10, 64)
	if err != nil {
		return -1
	}
	return id
}

func (s *Source) author(p *pending, name string, privileged map[string]bool) ticket.Author {
	switch {
	case s.automation[name]:
		return ticket.AuthorAutomation
	case p.requestors[name]:
		return ticket.AuthorReporter
	case privileged[name]:
		return ticket.AuthorAgent
	default:
		return ticket.AuthorReporter
	}
}

// transition reads a Status change. A status the ticket's lifecycle does
// not know (the ticket moved from a queue with another lifecycle) is
// looked up in the other lifecycles; one nobody knows is left out.
func (s *Source) transition(p *pending, x *restTxn) (ticket.Transition, bool) {
	from, to := strings.ToLower(x.OldValue), strings.ToLower(x.NewValue)
	fromCat, okFrom := s.category(p, from)
	toCat, okTo := s.category(p, to)
	if !okFrom || !okTo {
		s.logger.Warn("a status change names a status no lifecycle in rt.lifecycles has; it is left out",
			"ticket", p.t.ID, "from", from, "to", to)
		return ticket.Transition{}, false
	}
	return ticket.Transition{At: x.Created.Time, From: fromCat, To: toCat, FromStatus: from, ToStatus: to}, true
}

func (s *Source) category(p *pending, status string) (ticket.Category, bool) {
	if c, ok := p.lifecycle[status]; ok {
		return c, true
	}
	names := make([]string, 0, len(s.lifecycles))
	for name := range s.lifecycles {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if c, ok := s.lifecycles[name][status]; ok {
			return c, true
		}
	}
	return "", false
}

// rating reads the satisfaction field's last change: cleared is no
// rating, and a value that is not a whole number 1..5 is left out rather
// than costing the ticket.
func (s *Source) rating(p *pending, x *restTxn) *ticket.Rating {
	v := strings.TrimSpace(x.NewValue)
	if v == "" {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 5 {
		s.logger.Warn("the satisfaction field holds a value that is not a rating 1..5; it is left out",
			"ticket", p.t.ID, "value", v)
		s.metrics.SkipValues(s.name, reasonRatingInvalid, 1)
		return nil
	}
	return &ticket.Rating{Value: n, At: x.Created.Time}
}
