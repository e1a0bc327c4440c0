package jira

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// Field types the segments are found by or preferred in, on schema.custom.
const (
	// customOrganizations is JSM's Organizations field: the customer
	// organizations of the reporter, the default customer group.
	customOrganizations = "com.atlassian.servicedesk:sd-customer-organizations"
	// customAtlassianTeam is Cloud's Team field, customPortfolioTeam the
	// Advanced Roadmaps Team field of Data Center (and of older Cloud sites).
	customAtlassianTeam = "com.atlassian.jira.plugin.system.customfieldtypes:atlassian-team"
	customPortfolioTeam = "com.atlassian.teams:rm-teams-custom-field-team"
)

// Kinds of the segment fields in Field.Kind.
const (
	kindCustomerGroup = "customer_group"
	kindTeam          = "team"
)

// assigneeField is the system field that says whether anyone owns a ticket.
const assigneeField = "assignee"

// siteSegments are the fields the customer group and the team are read
// from on one site; an empty ID means the segment is not read.
type siteSegments struct {
	customerGroup, team Field
}

// resolveSegments picks the segment fields among the site's fields (sorted
// by id). A configured name must exist: it is matched against field ids
// (customfield_10002) and, ignoring case, names. Without configuration the
// customer group is the first Organizations field by id, and there is no
// team.
func resolveSegments(fields []fieldDef, segs config.Segments) (siteSegments, error) {
	var out siteSegments
	var errs []error
	if segs.CustomerGroup != nil {
		f, err := findSegmentField(fields, "segments.customer_group.field", segs.CustomerGroup.Field, customOrganizations)
		errs = append(errs, err)
		out.customerGroup = f
	} else {
		for _, f := range fields {
			if f.Schema.Custom == customOrganizations {
				out.customerGroup = Field{ID: f.ID, Name: f.Name}
				break
			}
		}
	}
	if segs.Team != nil {
		f, err := findSegmentField(fields, "segments.team.field", segs.Team.Field, customAtlassianTeam, customPortfolioTeam)
		errs = append(errs, err)
		out.team = f
	}
	if out.customerGroup.ID != "" {
		out.customerGroup.Kind = kindCustomerGroup
	}
	if out.team.ID != "" {
		out.team.Kind = kindTeam
	}
	return out, errors.Join(errs...)
}

// findSegmentField finds the field a segment names. Jira allows several
// fields with one name; then the one of a preferred type wins (the JSM
// Organizations field over a text field someone also called
// "Organizations"), and otherwise the name is ambiguous.
func findSegmentField(fields []fieldDef, key, name string, preferred ...string) (Field, error) {
	want := strings.TrimSpace(name)
	var byName []fieldDef
	for _, f := range fields {
		if f.ID == want {
			return Field{ID: f.ID, Name: f.Name}, nil
		}
		if strings.EqualFold(strings.TrimSpace(f.Name), want) {
			byName = append(byName, f)
		}
	}
	if len(byName) > 1 {
		var typed []fieldDef
		for _, f := range byName {
			for _, p := range preferred {
				if f.Schema.Custom == p {
					typed = append(typed, f)
				}
			}
		}
		if len(typed) == 1 {
			byName = typed
		}
	}
	switch len(byName) {
	case 0:
		return Field{}, fmt.Errorf("%s: the site has no field named %q (or the API user cannot see it): name a field as GET /rest/api/2/field lists it, or give its id such as customfield_10010", key, want)
	case 1:
		return Field{ID: byName[0].ID, Name: byName[0].Name}, nil
	}
	ids := make([]string, len(byName))
	for i, f := range byName {
		ids[i] = f.ID
	}
	return Field{}, fmt.Errorf("%s: %d fields are named %q (%s): give the id of the one to read instead of the name", key, len(byName), want, strings.Join(ids, ", "))
}

// searchFields are the segment fields every search asks for, with the
// assignee: all in the search itself, never a request per ticket.
func (s siteSegments) searchFields() []string {
	out := []string{assigneeField}
	for _, f := range []Field{s.customerGroup, s.team} {
		if f.ID != "" {
			out = append(out, f.ID)
		}
	}
	return out
}

// describe names a segment field for logs.
func (f Field) describe() string {
	if f.ID == "" {
		return "none"
	}
	return fmt.Sprintf("%s(%s)", f.ID, f.Name)
}

func (s siteSegments) fields() []Field {
	var out []Field
	for _, f := range []Field{s.customerGroup, s.team} {
		if f.ID != "" {
			out = append(out, f)
		}
	}
	return out
}

// decodeSegments reads the customer group, the team and whether anyone is
// assigned; a value of an unexpected shape fails the ticket like any other
// field.
func decodeSegments(s siteSegments, f *fieldReader, t *ticket.Ticket) {
	t.Assigned = present(f.fields[assigneeField])
	for _, seg := range []struct {
		field Field
		out   *string
	}{{s.customerGroup, &t.CustomerGroup}, {s.team, &t.Team}} {
		if seg.field.ID == "" {
			continue
		}
		v, err := segmentValue(f.fields[seg.field.ID])
		if err != nil {
			f.fail(seg.field.ID, err)
			continue
		}
		*seg.out = v
	}
}

// segmentObjectKeys are the members an object's value is read from, first
// present first.
var segmentObjectKeys = [...]string{"name", "value", "title", "displayName", "key", "id"}

// segmentValue turns a field value into one label value, "" for none:
//
//   - a string (text field, or a Team field that holds just the team's id) as is;
//   - a number by its decimal text;
//   - an object by its name (Organizations, Team, components), value (select
//     lists; a cascading select by its parent), title (Advanced Roadmaps
//     teams), displayName (user pickers), key or id, the first present;
//   - a list (Organizations, multi-selects, labels) by the first of its
//     values in alphabetical order, ignoring case, so a ticket of several
//     organizations always counts under the same one.
//
// Values are trimmed; an empty one is none.
//
// raw must be valid JSON, as a field of a search page is once the page
// split validated it; of anything else it makes some value, never panicking.
func segmentValue(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '[':
		// The first value in that order, found without sorting or copying
		// the items: raw is valid JSON, a field of a validated page.
		var first, firstLower string
		_, err := eachTrustedElement(raw, 0, 0, func(data []byte, at, _ int) (int, error) {
			end := skipValid(data, at)
			item := data[at:end]
			if item[0] == '[' {
				return end, errors.New("a list inside a list is not a segment value")
			}
			v, err := segmentValue(item)
			if err != nil || v == "" {
				return end, err
			}
			lower := strings.ToLower(v)
			if first == "" || lower < firstLower || (lower == firstLower && v < first) {
				first, firstLower = v, lower
			}
			return end, nil
		})
		if err != nil {
			return "", err
		}
		return first, nil
	case '{':
		var values [len(segmentObjectKeys)][]byte // the last of each, as a map keeps
		_, err := eachTrustedMember(raw, 0, func(key []byte, at int) (int, error) {
			end := skipValid(raw, at)
			for i, name := range segmentObjectKeys {
				if string(key) == name {
					values[i] = raw[at:end]
				}
			}
			return end, nil
		})
		if err != nil {
			return "", err
		}
		for _, inner := range values {
			if inner == nil || inner[0] == '{' || inner[0] == '[' {
				continue
			}
			v, err := segmentValue(inner)
			if err != nil {
				return "", err
			}
			if v != "" {
				return v, nil
			}
		}
		return "", errors.New("object without a name, value, title, displayName, key or id")
	case '"':
		var s string
		if err := decodeString(raw, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("value %s is neither text, a number, an object nor a list", raw)
	}
	return n.String(), nil
}
