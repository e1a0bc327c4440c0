package config

import (
	"gopkg.in/yaml.v3"
)

// Segments names the source fields that split tickets into internal
// customer segments. Each is optional.
type Segments struct {
	CustomerGroup *SegmentField `yaml:"customer_group,omitempty"`
	Team          *SegmentField `yaml:"team,omitempty"`
}

// SegmentField names the source field a segment is read from.
type SegmentField struct {
	Field string `yaml:"field"`
}

// IsZero reports whether no segment is configured.
func (s Segments) IsZero() bool { return s.CustomerGroup == nil && s.Team == nil }

func (p *parser) segments(f field) Segments {
	var segs Segments
	if !isSet(f.node) || p.failed[resolve(f.node)] {
		return segs
	}
	n, ok := p.mapping(f, "customer_group", "team")
	if !ok {
		return segs
	}
	segs.CustomerGroup = p.segmentField(n, f, "customer_group")
	segs.Team = p.segmentField(n, f, "team")
	return segs
}

func (p *parser) segmentField(segments *yaml.Node, f field, key string) *SegmentField {
	v := mappingValue(segments, key)
	if !isSet(v) || p.failed[v] {
		return nil
	}
	f = f.child(v, key)
	n, ok := p.mapping(f, "field")
	if !ok {
		return nil
	}
	fv := mappingValue(n, "field")
	if !isSet(fv) {
		p.required(n, lineOf(mappingKey(segments, key), n), f.scope, "field", "%s.field is required: the name of the source field to read", f.key)
		return nil
	}
	name, ok := p.nonEmpty(f.child(fv, "field"))
	if !ok {
		return nil
	}
	return &SegmentField{Field: name}
}
