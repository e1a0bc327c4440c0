package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

func TestSegmentValueShapes(t *testing.T) {
	tests := []struct {
		name, raw, want, wantErr string
	}{
		{name: "absent", raw: ``, want: ""},
		{name: "null", raw: `null`, want: ""},
		{name: "text field", raw: `"  Finance "`, want: "Finance"},
		{name: "empty text", raw: `"   "`, want: ""},
		{name: "number field", raw: `42`, want: "42"},
		{name: "one organization", raw: `[{"id":"3","name":"Finance","_links":{"self":"https://x/rest/servicedeskapi/organization/3"}}]`, want: "Finance"},
		{name: "organizations: first by name, ignoring case",
			raw: `[{"id":"1","name":"sales"},{"id":"2","name":"Engineering"},{"id":"3","name":"finance"}]`, want: "Engineering"},
		{name: "no organization", raw: `[]`, want: ""},
		{name: "single select", raw: `{"self":"https://x/rest/api/2/customFieldOption/10100","value":"Service Desk L1","id":"10100"}`, want: "Service Desk L1"},
		{name: "cascading select counts under its parent", raw: `{"value":"EMEA","id":"1","child":{"value":"Berlin","id":"2"}}`, want: "EMEA"},
		{name: "multi select", raw: `[{"value":"Payroll","id":"2"},{"value":"HR Operations","id":"1"}]`, want: "HR Operations"},
		{name: "Cloud Team field",
			raw:  `{"id":"36885b3c-1bf0-4f85-a357-c5b858c31de4","name":"Identity & Access","avatarUrl":"","isVisible":true,"isVerified":false,"title":"Identity & Access","isShared":true}`,
			want: "Identity & Access"},
		{name: "Advanced Roadmaps team", raw: `{"id":12,"title":"Workplace","isShared":true}`, want: "Workplace"},
		{name: "Team field holding only its id", raw: `"36885b3c-1bf0-4f85-a357-c5b858c31de4"`, want: "36885b3c-1bf0-4f85-a357-c5b858c31de4"},
		{name: "user picker", raw: `{"accountId":"5b10a","displayName":"Alex Agent","active":true}`, want: "Alex Agent"},
		{name: "empty name falls through to value", raw: `{"name":"","value":"Sales"}`, want: "Sales"},
		{name: "labels", raw: `["vip","Contractor"]`, want: "Contractor"},
		{name: "boolean", raw: `true`, wantErr: "neither text, a number, an object nor a list"},
		{name: "object without a name", raw: `{"self":"https://x","avatarUrl":"y"}`, wantErr: "object without a name"},
		{name: "list of lists", raw: `[["a"]]`, wantErr: "a list inside a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := segmentValue(json.RawMessage(tt.raw))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("segmentValue(%s) = %q, %v; want error %q", tt.raw, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("segmentValue(%s) = %q, %v; want %q", tt.raw, got, err, tt.want)
			}
		})
	}
}

func fieldDefs(t *testing.T, raw string) []fieldDef {
	t.Helper()
	var out []fieldDef
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// siteFields is a JSM site's field list, the shapes of GET /rest/api/2/field:
// the Organizations field, a text field someone also called "Organizations",
// a "Department" select, the Cloud Team field, an "Assignment group" select
// and two fields both named "Region".
const siteFields = `[
 {"id":"customfield_10002","name":"Organizations","custom":true,"schema":{"type":"array","items":"sd-customerorganization","custom":"com.atlassian.servicedesk:sd-customer-organizations","customId":10002}},
 {"id":"customfield_10090","name":"Organizations","custom":true,"schema":{"type":"string","custom":"com.atlassian.jira.plugin.system.customfieldtypes:textfield","customId":10090}},
 {"id":"customfield_10100","name":"Department","custom":true,"schema":{"type":"option","custom":"com.atlassian.jira.plugin.system.customfieldtypes:select","customId":10100}},
 {"id":"customfield_10001","name":"Team","custom":true,"schema":{"type":"team","custom":"com.atlassian.jira.plugin.system.customfieldtypes:atlassian-team","customId":10001}},
 {"id":"customfield_10200","name":"Assignment group","custom":true,"schema":{"type":"option","custom":"com.atlassian.jira.plugin.system.customfieldtypes:select","customId":10200}},
 {"id":"customfield_10300","name":"Region","custom":true,"schema":{"type":"option","custom":"com.atlassian.jira.plugin.system.customfieldtypes:select","customId":10300}},
 {"id":"customfield_10301","name":"Region","custom":true,"schema":{"type":"string","custom":"com.atlassian.jira.plugin.system.customfieldtypes:textfield","customId":10301}},
 {"id":"assignee","name":"Assignee","custom":false,"schema":{"type":"user","system":"assignee"}}
]`

func TestResolveSegments(t *testing.T) {
	field := func(name string) *config.SegmentField { return &config.SegmentField{Field: name} }
	tests := []struct {
		name              string
		fields            string
		segments          config.Segments
		wantGroup         string
		wantTeam          string
		wantErr, wantErr2 string
	}{
		{name: "default: Organizations, no team", fields: siteFields, wantGroup: "customfield_10002"},
		{name: "default on a site without Organizations", fields: `[{"id":"customfield_10100","name":"Department","schema":{"custom":"com.atlassian.jira.plugin.system.customfieldtypes:select"}}]`},
		{name: "named Organizations: the JSM field wins over the text field of that name",
			fields: siteFields, segments: config.Segments{CustomerGroup: field("Organizations")}, wantGroup: "customfield_10002"},
		{name: "a department select, case and spaces aside",
			fields: siteFields, segments: config.Segments{CustomerGroup: field(" department ")}, wantGroup: "customfield_10100"},
		{name: "team only: the customer group stays Organizations",
			fields: siteFields, segments: config.Segments{Team: field("Team")}, wantGroup: "customfield_10002", wantTeam: "customfield_10001"},
		{name: "an assignment group select", fields: siteFields,
			segments: config.Segments{CustomerGroup: field("Department"), Team: field("Assignment group")}, wantGroup: "customfield_10100", wantTeam: "customfield_10200"},
		{name: "by id", fields: siteFields, segments: config.Segments{Team: field("customfield_10301")}, wantGroup: "customfield_10002", wantTeam: "customfield_10301"},
		{name: "a name the site lacks", fields: siteFields, segments: config.Segments{CustomerGroup: field("Cost centre")},
			wantErr: `segments.customer_group.field: the site has no field named "Cost centre"`},
		{name: "an ambiguous name", fields: siteFields, segments: config.Segments{Team: field("Region")},
			wantErr: `segments.team.field: 2 fields are named "Region" (customfield_10300, customfield_10301): give the id`},
		{name: "both wrong, both said", fields: siteFields, segments: config.Segments{CustomerGroup: field("Division"), Team: field("Squad")},
			wantErr: `segments.customer_group.field: the site has no field named "Division"`, wantErr2: `segments.team.field: the site has no field named "Squad"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveSegments(fieldDefs(t, tt.fields), tt.segments)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.wantErr2) {
					t.Fatalf("error %v, want %q and %q", err, tt.wantErr, tt.wantErr2)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.customerGroup.ID != tt.wantGroup || got.team.ID != tt.wantTeam {
				t.Fatalf("customer group %q team %q, want %q and %q", got.customerGroup.ID, got.team.ID, tt.wantGroup, tt.wantTeam)
			}
			if (got.customerGroup.ID != "") != (got.customerGroup.Kind == kindCustomerGroup) || (got.team.ID != "") != (got.team.Kind == kindTeam) {
				t.Fatalf("kinds not set: %+v", got)
			}
		})
	}
}

func TestDecodeIssueSegments(t *testing.T) {
	st := &site{
		categories: map[string]ticket.Category{"1": ticket.CategoryNew},
		segments: siteSegments{
			customerGroup: Field{Kind: kindCustomerGroup, ID: "customfield_10002", Name: "Organizations"},
			team:          Field{Kind: kindTeam, ID: "customfield_10001", Name: "Team"},
		},
	}
	issue := func(fields string) json.RawMessage {
		return json.RawMessage(`{"id":"10001","key":"IT-1","fields":{"created":"2026-01-05T09:00:00.000+0000","updated":"2026-01-05T10:00:00.000+0000",` +
			`"status":{"id":"1","name":"Waiting for support"},"project":{"key":"IT"}` + fields + `}}`)
	}
	tests := []struct {
		name, fields string
		group, team  string
		assigned     bool
		wantErr      string
	}{
		{name: "nothing set", fields: `,"assignee":null,"customfield_10002":[],"customfield_10001":null`},
		{name: "all set",
			fields: `,"assignee":{"accountId":"5b10a","displayName":"Alex"},"customfield_10002":[{"id":"2","name":"Sales"},{"id":"1","name":"Finance"}],"customfield_10001":{"id":"36885b3c","name":"Workplace","title":"Workplace"}`,
			group:  "Finance", team: "Workplace", assigned: true},
		{name: "fields left out of the answer", fields: ``},
		{name: "a team of a shape no Jira sends", fields: `,"customfield_10001":false`, wantErr: "field customfield_10001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := decodeIssue(st, issue(tt.fields), nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.t.CustomerGroup != tt.group || p.t.Team != tt.team || p.t.Assigned != tt.assigned {
				t.Fatalf("group %q team %q assigned %v; want %q %q %v", p.t.CustomerGroup, p.t.Team, p.t.Assigned, tt.group, tt.team, tt.assigned)
			}
		})
	}
	if got := strings.Join(st.searchFields(), ","); !strings.Contains(got, ",assignee,customfield_10002,customfield_10001") {
		t.Errorf("search fields %s lack the assignee and the segment fields", got)
	}
}

func TestCheckReportsSegments(t *testing.T) {
	site := newSite(t, fakejira.Options{Seed: 93, Now: func() time.Time { return fixedStart }}, 120, nil)
	newSource := func(segs config.Segments) *Source {
		src, err := New(fakejira.DefaultSource, site.cfg, site.httpCfg, source.Env{API: site.metrics, Now: site.clock.Now}, WithSegments(segs))
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	fields := site.srv.FieldIDs()

	var out bytes.Buffer
	report, err := newSource(config.Segments{Team: &config.SegmentField{Field: "team"}}).checkTo(context.Background(), &out)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	text := out.String()
	for _, want := range []string{
		"customer group:  " + fields.Organizations + ` "Organizations", `,
		"team:            " + fields.Team + ` "Team", `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	if report.TicketsWithSegment[kindCustomerGroup] == 0 || report.TicketsWithSegment[kindTeam] == 0 {
		t.Errorf("the sample saw no segment values: %+v", report.TicketsWithSegment)
	}

	out.Reset()
	if _, err := newSource(config.Segments{}).checkTo(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "team:            none read (segments.team.field names one)") {
		t.Errorf("report without a team:\n%s", out.String())
	}

	err = newSource(config.Segments{CustomerGroup: &config.SegmentField{Field: "Department"}}).Check(context.Background(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), `segments.customer_group.field: the site has no field named "Department"`) {
		t.Fatalf("check with a field the site lacks: %v", err)
	}
}

// FuzzSegmentValue holds segmentValue, which walks a valid field value in
// place, to reading the same value through json.Unmarshal: the same label,
// or an error for both; on invalid JSON it only must not panic.
func FuzzSegmentValue(f *testing.F) {
	for _, s := range []string{
		`"IT"`, ` " Finance " `, `12`, `-1.5e3`, `null`, `true`, `[]`, `[null]`, `[[1]]`, `[{"name":"b"},{"name":"A"},{"name":"a"}]`,
		`["x","X",""]`, `{"value":"Parent","child":{"value":"Child"}}`, `{"name":{"x":1},"id":7}`, `{"name":"","key":"K"}`,
		`{"n\u0061me":"escaped","name":"plain"}`, `{"name":"first","name":"last"}`, `{"Name":"folded"}`, `{}`, `[{"title":"T"},"s",3]`,
		`{"name":"a"`, `[1,`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		got, err := segmentValue(doc)
		if !json.Valid(doc) {
			return
		}
		want, wantErr := segmentValueByLibrary(doc)
		if (err != nil) != (wantErr != nil) || got != want {
			t.Fatalf("segmentValue(%s) = %q, %v; through json.Unmarshal %q, %v", doc, got, err, want, wantErr)
		}
	})
}

// segmentValueByLibrary is segmentValue's rules over json.Unmarshal.
func segmentValueByLibrary(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return "", err
		}
		var values []string
		for _, item := range items {
			if b := bytes.TrimSpace(item); len(b) > 0 && b[0] == '[' {
				return "", errors.New("a list inside a list")
			}
			v, err := segmentValueByLibrary(item)
			if err != nil {
				return "", err
			}
			if v != "" {
				values = append(values, v)
			}
		}
		if len(values) == 0 {
			return "", nil
		}
		sort.Slice(values, func(i, j int) bool {
			a, b := strings.ToLower(values[i]), strings.ToLower(values[j])
			if a != b {
				return a < b
			}
			return values[i] < values[j]
		})
		return values[0], nil
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return "", err
		}
		for _, key := range segmentObjectKeys {
			inner, ok := obj[key]
			if !ok {
				continue
			}
			if b := bytes.TrimSpace(inner); len(b) > 0 && (b[0] == '{' || b[0] == '[') {
				continue
			}
			v, err := segmentValueByLibrary(inner)
			if err != nil {
				return "", err
			}
			if v != "" {
				return v, nil
			}
		}
		return "", errors.New("object without a label")
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", err
	}
	return n.String(), nil
}
