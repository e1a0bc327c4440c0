package rt

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
)

func decodeYAML(t *testing.T, text string) (Config, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	v, err := Type().Config.Decode(doc.Content[0])
	if err != nil {
		return Config{}, err
	}
	return v.(Config), nil
}

func TestRTConfigDefaults(t *testing.T) {
	cfg, err := decodeYAML(t, "url: https://rt.example.com\nqueues: [IT]\n")
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.URL, want.Queues = "https://rt.example.com", []string{"IT"}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
	if want.SatisfactionField != "Satisfaction" || want.TimeZone != "UTC" || len(want.Priority) != 3 {
		t.Errorf("defaults changed: %+v", want)
	}
	// A list in the file replaces the default; an empty one means no priority.
	cfg, err = decodeYAML(t, "url: https://rt.example.com\nquery: Queue = 'IT'\npriority: [{name: Urgent, min: 90}]\nsatisfaction_field: \"\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Priority, []PriorityRange{{Name: "Urgent", Min: 90}}) || cfg.SatisfactionField != "" {
		t.Errorf("priority %v, satisfaction field %q", cfg.Priority, cfg.SatisfactionField)
	}
	cfg, err = decodeYAML(t, "url: https://rt.example.com\nqueues: [IT]\npriority: []\n")
	if err != nil || len(cfg.Priority) != 0 {
		t.Errorf("priority: [] gave %v, %v", cfg.Priority, err)
	}
}

// Every problem is reported at once, each a KeyError naming its key, so
// the loader puts it on that key's line (config/rt_test.go checks lines).
func TestRTConfigProblems(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       map[string]string // key → message
	}{
		{"nothing", "{}", map[string]string{
			"url": "rt.url is required: RT's web base URL, e.g. https://rt.example.com",
			"":    "rt.queues or rt.query is required: the queues to read (each a desk), or a TicketSQL search",
		}},
		{"both selections", "url: https://rt.example.com\nqueues: [IT, it, ' ']\nquery: id > 0\n", map[string]string{
			"query":     "rt.queues and rt.query are exclusive: set one of them",
			"queues[1]": `rt.queues: duplicate queue "it"`,
			"queues[2]": "rt.queues[2] must not be empty",
		}},
		{"URL shapes", "url: https://user:pw@rt.example.com\nqueues: [IT]\n", map[string]string{
			"url": "rt.url must not contain credentials; use http_client.authorization or basic_auth",
		}},
		{"REST path", "url: https://rt.example.com/REST/2.0/\nqueues: [IT]\n", map[string]string{
			"url": "rt.url is RT's web base URL, without /REST/2.0 (the exporter adds it)",
		}},
		{"lifecycles", "url: http://rt\nqueues: [IT]\nlifecycles:\n  empty: {}\n  facilities: {initial: [new], active: [open, New], inactive: ['']}\n", map[string]string{
			"lifecycles.empty":                  "rt.lifecycles.empty lists no statuses: give its initial, active and inactive statuses",
			"lifecycles.facilities.active[1]":   `rt.lifecycles.facilities: status "new" is already in initial`,
			"lifecycles.facilities.inactive[0]": "rt.lifecycles.facilities.inactive[0] must not be empty",
		}},
		{"no inactive status", "url: http://rt\nqueues: [IT]\nlifecycles:\n  triage: {initial: [new], active: [open]}\n", map[string]string{
			"lifecycles.triage": "rt.lifecycles.triage has no inactive status: without one no triage ticket is ever resolved",
		}},
		{"priority", "url: http://rt\nqueues: [IT]\npriority: [{name: P1, min: 80}, {name: '', min: 50}, {name: P1, min: 80}]\n", map[string]string{
			"priority[1].name": "rt.priority[1].name is required",
			"priority[2].name": `rt.priority: duplicate name "P1"`,
			"priority[2].min":  `rt.priority: priority[2] and "P1" both start at 80`,
		}},
		{"numbers", "url: http://rt\nqueues: [IT]\nrequests_per_second: 0\ntimeout: 0s\nmax_retries: 21\noverlap: 2d\nreconcile_interval: 30s\nmax_pages: 0\ntime_zone: Mars/Base\nautomation_users: ['']\n", map[string]string{
			"requests_per_second": "rt.requests_per_second must be in (0, 1000], got 0",
			"timeout":             "rt.timeout must be positive",
			"max_retries":         "rt.max_retries must be in [0, 20], got 21",
			"overlap":             "rt.overlap must be in [0s, 24h], got 2d",
			"reconcile_interval":  "rt.reconcile_interval must be 0 (off) or at least 1m, got 30s",
			"max_pages":           "rt.max_pages must be at least 1, got 0",
			"time_zone":           `rt.time_zone: unknown time zone "Mars/Base" (want an IANA name such as Europe/Berlin, or UTC)`,
			"automation_users[0]": "rt.automation_users[0] must not be empty",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeYAML(t, tt.yaml)
			got := map[string]string{}
			for _, e := range leaves(err) {
				var ke *config.KeyError
				if !errors.As(e, &ke) {
					t.Fatalf("problem %v is not a KeyError", e)
				}
				got[ke.Key] = ke.Msg
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems\n%s\nwant\n%s", format(got), format(tt.want))
			}
		})
	}
}

func leaves(err error) []error {
	if err == nil {
		return nil
	}
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range multi.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

func format(m map[string]string) string {
	var lines []string
	for k, v := range m {
		lines = append(lines, k+": "+v)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func TestRTLifecycles(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Lifecycles = map[string]Lifecycle{"default": {Initial: []string{"New"}, Active: []string{"open"}, Inactive: []string{"closed"}},
		"it": {Initial: []string{"triage"}, Inactive: []string{"fixed"}}}
	lcs := cfg.lifecycles()
	if lcs["default"]["new"] != "new" || lcs["default"]["closed"] != "done" || lcs["default"]["resolved"] != "" {
		t.Errorf("a configured default lifecycle replaces RT's: %v", lcs["default"])
	}
	if lcs["it"]["triage"] != "new" || lcs["it"]["fixed"] != "done" {
		t.Errorf("it: %v", lcs["it"])
	}
	if got := DefaultConfig().lifecycles()["default"]; got["new"] != "new" || got["stalled"] != "indeterminate" || got["deleted"] != "done" {
		t.Errorf("RT's default lifecycle: %v", got)
	}
}
