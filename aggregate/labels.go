package aggregate

import (
	"github.com/servicedesk-exporter/servicedesk_exporter/store"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// OtherLabelValue replaces label values beyond the configured limit.
const OtherLabelValue = "other"

// Label names subject to the value limit.
const (
	labelDesk          = "desk"
	labelRequestType   = "request_type"
	labelPriority      = "priority"
	labelCustomerGroup = "customer_group"
	labelTeam          = "team"
	labelSLA           = "sla"
)

// LabelValues lists the label values d brings, in the order the store
// registers them; a value's place in that first-seen order decides whether
// it gets its own series or folds into "other".
func LabelValues(d ticket.Derived) []store.LabelValue {
	out := []store.LabelValue{
		{Name: labelDesk, Value: d.Labels.Desk},
		{Name: labelRequestType, Value: d.Labels.RequestType},
		{Name: labelPriority, Value: d.Labels.Priority},
	}
	if d.Labels.CustomerGroup != "" {
		out = append(out, store.LabelValue{Name: labelCustomerGroup, Value: d.Labels.CustomerGroup})
	}
	if d.Labels.Team != "" {
		out = append(out, store.LabelValue{Name: labelTeam, Value: d.Labels.Team})
	}
	for _, e := range d.Events {
		if e.Kind == ticket.EventSLACycle {
			out = append(out, store.LabelValue{Name: labelSLA, Value: e.SLA})
		}
	}
	// SLA names of running cycles too, so the breach gauge and the cycle
	// counter agree on which names fold into "other".
	for _, s := range d.State.SLAs {
		out = append(out, store.LabelValue{Name: labelSLA, Value: s.Name})
	}
	return out
}

// ranks numbers each label's values in first-seen order.
type ranks map[string]map[string]int

func newRanks(order map[string][]string) ranks {
	r := ranks{}
	for name, values := range order {
		m := make(map[string]int, len(values))
		for i, v := range values {
			m[v] = i
		}
		r[name] = m
	}
	return r
}

func (r ranks) add(lv store.LabelValue) {
	m := r[lv.Name]
	if m == nil {
		m = map[string]int{}
		r[lv.Name] = m
	}
	if _, ok := m[lv.Value]; !ok {
		m[lv.Value] = len(m)
	}
}

// fold returns value if it is among the first limit values of the label,
// else "other". A value never registered folds too.
func (r ranks) fold(limit int, name, value string) string {
	if i, ok := r[name][value]; ok && i < limit {
		return value
	}
	return OtherLabelValue
}
