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

// AppendLabelValues appends the label values d brings to dst, in the order
// the store registers them, leaving out those already in seen (and adding
// them to it): a value's place in that first-seen order decides whether it
// gets its own series or folds into "other", and a batch of a thousand
// tickets brings the same few dozen values over and over.
func AppendLabelValues(dst []store.LabelValue, seen map[store.LabelValue]bool, d ticket.Derived) []store.LabelValue {
	add := func(name, value string) {
		lv := store.LabelValue{Name: name, Value: value}
		if !seen[lv] {
			seen[lv] = true
			dst = append(dst, lv)
		}
	}
	add(labelDesk, d.Labels.Desk)
	add(labelRequestType, d.Labels.RequestType)
	add(labelPriority, d.Labels.Priority)
	if d.Labels.CustomerGroup != "" {
		add(labelCustomerGroup, d.Labels.CustomerGroup)
	}
	if d.Labels.Team != "" {
		add(labelTeam, d.Labels.Team)
	}
	for _, e := range d.Events {
		if e.Kind == ticket.EventSLACycle {
			add(labelSLA, e.SLA)
		}
	}
	// SLA names of running cycles too, so the breach gauge and the cycle
	// counter agree on which names fold into "other".
	for _, s := range d.State.SLAs {
		add(labelSLA, s.Name)
	}
	return dst
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
