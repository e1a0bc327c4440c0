package rt

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
)

// Route names, the endpoint label of servicedesk_api_requests_total.
const (
	endpointTickets      = "tickets"
	endpointTransactions = "transactions"
	endpointCustomFields = "customfields"
	endpointUser         = "user"
	endpointRT           = "rt"
	endpointQueues       = "queues"
	endpointQueue        = "queue"
)

// restPrefix is where REST2 lives under RT's web base URL.
const restPrefix = "REST/2.0/"

// perPage is REST2's largest page (larger asks are capped to it).
const perPage = 100

// site is what the source learns about RT once per process.
type site struct {
	// satisfactionIDs are the ids of the ticket custom fields named
	// rt.satisfaction_field (RT allows one name per queue); empty when
	// ratings are off or no such field exists.
	satisfactionIDs []int64
	// fieldIDs maps each custom field name the source reads to its ids.
	fieldIDs map[string][]int64
	// zoneChecked says the time zone probe confirmed rt.time_zone; false
	// when there was no ticket to probe with.
	zoneChecked bool
}

// ensureSite discovers the site once; a failed discovery is retried on the
// next call.
func (s *Source) ensureSite(ctx context.Context, c *api.Client, firstWait time.Duration) (*site, error) {
	return s.site.Get(func() (*site, error) {
		st, err := s.discover(ctx, c, firstWait)
		if err != nil {
			return nil, err
		}
		s.logger.Info("rt site discovered", "satisfaction_field_ids", st.satisfactionIDs,
			"custom_fields", st.fieldIDs, "time_zone", s.loc.String(), "time_zone_checked", st.zoneChecked)
		return st, nil
	})
}

// discover finds the custom fields the source reads and checks the zone
// RT reads TicketSQL dates in: at most three requests.
func (s *Source) discover(ctx context.Context, c *api.Client, firstWait time.Duration) (*site, error) {
	st := &site{fieldIDs: map[string][]int64{}}
	wanted := s.customFieldsWanted()
	ratings := strings.TrimSpace(s.cfg.SatisfactionField)
	if ratings != "" || len(wanted) > 0 {
		fields, err := s.ticketCustomFields(ctx, c, firstWait)
		if err != nil {
			return nil, err
		}
		firstWait = 0
		byName := func(name string) []int64 {
			var ids []int64
			for _, f := range fields {
				if strings.EqualFold(strings.TrimSpace(f.Name), name) {
					ids = append(ids, int64(f.ID))
				}
			}
			slices.Sort(ids)
			return ids
		}
		if ratings != "" {
			st.satisfactionIDs = byName(ratings)
			if len(st.satisfactionIDs) == 0 {
				s.logger.Warn("no ticket custom field has the name of rt.satisfaction_field (or the API user lacks SeeCustomField on it); no ratings will be read",
					"satisfaction_field", ratings)
			}
			st.fieldIDs[ratings] = st.satisfactionIDs
		}
		for _, name := range wanted {
			ids := byName(name)
			if len(ids) == 0 {
				return nil, fmt.Errorf("no ticket custom field is named %q (%s); check the name, and that the API user has SeeCustomField on it", name, s.fieldKey(name))
			}
			st.fieldIDs[name] = ids
		}
	}
	checked, err := s.checkZone(ctx, c, firstWait)
	if err != nil {
		return nil, err
	}
	st.zoneChecked = checked
	return st, nil
}

// fieldKey names the setting a custom field name came from.
func (s *Source) fieldKey(name string) string {
	switch name {
	case strings.TrimSpace(s.cfg.RequestTypeField):
		return "rt.request_type_field"
	case s.customerGroup:
		return "segments.customer_group.field"
	default:
		return "segments.team.field"
	}
}

// ticketCustomFields lists every ticket custom field the API user can see.
// A GET of /customfields without a query lists nothing, even for root.
func (s *Source) ticketCustomFields(ctx context.Context, c *api.Client, firstWait time.Duration) ([]restCustomField, error) {
	query, _ := json.Marshal([]map[string]string{{"field": "LookupType", "value": "RT::Queue-RT::Ticket"}})
	var out []restCustomField
	for page := 1; ; page++ {
		if page > s.cfg.MaxPages {
			return nil, fmt.Errorf("custom fields: more than %d pages (rt.max_pages)", s.cfg.MaxPages)
		}
		q := url.Values{"query": {string(query)}, "fields": {"Name"}, "per_page": {strconv.Itoa(perPage)}, "page": {strconv.Itoa(page)}}
		var coll collection
		req := api.Request{Endpoint: endpointCustomFields, Method: http.MethodGet, Path: restPrefix + "customfields", Query: q}
		if err := c.DoWithin(ctx, firstWait, req, &coll); err != nil {
			return nil, fmt.Errorf("list ticket custom fields: %w", s.explain(err))
		}
		firstWait = 0
		for _, raw := range coll.Items {
			var f restCustomField
			if err := json.Unmarshal(raw, &f); err != nil {
				return nil, fmt.Errorf("list ticket custom fields: %w", err)
			}
			out = append(out, f)
		}
		if len(coll.Items) < max(coll.PerPage, 1) {
			return out, nil
		}
	}
}

// checkZone makes sure RT reads the exporter's date literals in
// rt.time_zone: a wrong zone west of the right one would make incremental
// polls skip changes. It asks for the newest ticket by exactly its
// creation second; RT finds it only if it reads the literals as written.
// It reports false when there is no ticket to ask with.
func (s *Source) checkZone(ctx context.Context, c *api.Client, firstWait time.Duration) (bool, error) {
	sql := newTicketSQL(s.cfg, s.loc)
	q := url.Values{"query": {sql.selection()}, "orderby": {"id"}, "order": {"DESC"}, "per_page": {"1"}, "fields": {"Created"}}
	var newest collection
	req := api.Request{Endpoint: endpointTickets, Method: http.MethodGet, Path: restPrefix + "tickets", Query: q}
	if err := c.DoWithin(ctx, firstWait, req, &newest); err != nil {
		return false, fmt.Errorf("search tickets: %w", s.explain(err))
	}
	if len(newest.Items) == 0 {
		return false, nil
	}
	var tk restTicket
	if err := json.Unmarshal(newest.Items[0], &tk); err != nil {
		return false, fmt.Errorf("read the newest ticket's creation time: %w", err)
	}
	if tk.Created.IsZero() {
		return false, fmt.Errorf("the newest ticket, %d, has no creation time", tk.ID)
	}
	from, fromAt := lowerBound(tk.Created.Time, s.loc)
	to, toAt := lowerBound(tk.Created.Add(time.Second), s.loc)
	if !fromAt.Equal(tk.Created.Time) || !toAt.Equal(tk.Created.Add(time.Second)) {
		// Created in the hour of a clock change, which RT reads loosely.
		return false, nil
	}
	probe := fmt.Sprintf("id = %d AND Created >= '%s' AND Created < '%s'", tk.ID, from, to)
	var found collection
	if err := c.Do(ctx, api.Request{Endpoint: endpointTickets, Method: http.MethodGet, Path: restPrefix + "tickets",
		Query: url.Values{"query": {probe}, "per_page": {"1"}}}, &found); err != nil {
		return false, fmt.Errorf("check the time zone: %w", s.explain(err))
	}
	if len(found.Items) != 1 {
		return false, fmt.Errorf("RT reads TicketSQL dates in a time zone other than rt.time_zone (%s): ticket %d created at %s "+
			"is not found between '%s' and '%s'; set rt.time_zone to the API user's time zone in RT (its preference, else RT's $Timezone)",
			s.loc, tk.ID, tk.Created.UTC().Format(time.RFC3339), from, to)
	}
	return true, nil
}
