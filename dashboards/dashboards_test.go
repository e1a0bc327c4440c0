package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// committedDir is OutputDir seen from this package's directory, where go test runs.
const committedDir = "json"

func committedFiles(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(committedDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no dashboards committed under %s; run go run ./dashboards/gen", committedDir)
	}
	return paths
}

func TestCommittedJSONMatchesGenerator(t *testing.T) {
	generatedDir := t.TempDir()
	if err := WriteAll(generatedDir); err != nil {
		t.Fatal(err)
	}
	generated, err := filepath.Glob(filepath.Join(generatedDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var generatedNames, committedNames []string
	for _, p := range generated {
		generatedNames = append(generatedNames, filepath.Base(p))
	}
	for _, p := range committedFiles(t) {
		committedNames = append(committedNames, filepath.Base(p))
	}
	if !slices.Equal(generatedNames, committedNames) {
		t.Fatalf("generator writes %v but %s holds %v; run go run ./dashboards/gen", generatedNames, committedDir, committedNames)
	}
	for _, name := range generatedNames {
		want, err := os.ReadFile(filepath.Join(generatedDir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(committedDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator's output (%s); run go run ./dashboards/gen and commit the result",
				name, firstDifference(got, want))
		}
	}
}

// firstDifference names the first differing line, so a failure says what drifted.
func firstDifference(committed, generated []byte) string {
	committedLines := strings.Split(string(committed), "\n")
	generatedLines := strings.Split(string(generated), "\n")
	for i := range min(len(committedLines), len(generatedLines)) {
		if committedLines[i] != generatedLines[i] {
			return "line " + strconv.Itoa(i+1) + ": committed " + strings.TrimSpace(committedLines[i]) + " / generated " + strings.TrimSpace(generatedLines[i])
		}
	}
	return "lengths differ: committed " + strconv.Itoa(len(committedLines)) + " lines, generated " + strconv.Itoa(len(generatedLines))
}

// strictlyUnmarshal decodes a dashboard with the SDK's strict decoder, which
// rejects unknown fields and wrong types. The SDK (v0.0.18) returns a typed
// nil cog.BuildErrors on success, so a plain err != nil would always fail:
// only a non-empty BuildErrors or another error type is a real failure.
func strictlyUnmarshal(raw []byte) (dashboard.Dashboard, error) {
	var d dashboard.Dashboard
	err := d.UnmarshalJSONStrict(raw)
	var buildErrors cog.BuildErrors
	if errors.As(err, &buildErrors) && len(buildErrors) == 0 {
		err = nil
	}
	if err != nil {
		return d, err
	}
	return d, d.Validate()
}

func TestStrictUnmarshalRejectsUnknownFields(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	if _, err := strictlyUnmarshal([]byte(`{"title": "x", "uid": "x", "schemaVersion": 42, "notAField": true}`)); err == nil {
		t.Fatal("strict decoding accepted an unknown dashboard field, so it cannot vouch for the committed JSON")
	}
}

func TestCommittedJSONIsAValidDashboard(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for _, path := range committedFiles(t) {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := strictlyUnmarshal(raw); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// panelJSON is the part of a committed panel the conventions below look at.
type panelJSON struct {
	ID          int    `json:"id"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Interval    string `json:"interval"`
	Datasource  struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
}

type dashboardJSON struct {
	UID      string      `json:"uid"`
	Title    string      `json:"title"`
	Editable bool        `json:"editable"`
	Panels   []panelJSON `json:"panels"`
	Time     struct {
		From string `json:"from"`
	} `json:"time"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
		} `json:"list"`
	} `json:"templating"`
}

var (
	// wantUIDs pins each file's uid: links and bookmarks break when a uid changes.
	wantUIDs = map[string]string{
		"servicedesk-overview.json":           "servicedesk-overview",
		"servicedesk-sla.json":                "servicedesk-sla",
		"servicedesk-satisfaction.json":       "servicedesk-satisfaction",
		"servicedesk-internal-customers.json": "servicedesk-internal-customers",
		"servicedesk-exporter-health.json":    "servicedesk-exporter-health",
	}
	// Ticket volumes are a few per hour; minute-scale default ranges would look empty.
	dayScaleRanges = []string{"now-24h", "now-7d", "now-30d"}
	allowedUnits   = []string{"s", "percentunit", "short", "bool", "ops", "reqps", "dateTimeFromNow"}
	rateCall       = regexp.MustCompile(`\b(rate|irate)\(`)
)

func TestCommittedDashboardsFollowConventions(t *testing.T) {
	for _, path := range committedFiles(t) {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboardJSON
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		name := filepath.Base(path)
		if want := wantUIDs[name]; d.UID != want {
			t.Errorf("%s: uid %q, want %q", name, d.UID, want)
		}
		if d.Editable {
			t.Errorf("%s: editable; edits belong in the Go builders", name)
		}
		if !slices.Contains(dayScaleRanges, d.Time.From) {
			t.Errorf("%s: default range from %q, want one of %v", name, d.Time.From, dayScaleRanges)
		}
		var variables []string
		for _, v := range d.Templating.List {
			variables = append(variables, v.Name)
		}
		for _, required := range []string{"datasource", "job", "instance", "source"} {
			if !slices.Contains(variables, required) {
				t.Errorf("%s: missing variable %q (has %v)", name, required, variables)
			}
		}
		seenIDs := map[int]bool{}
		for _, p := range d.Panels {
			if seenIDs[p.ID] || p.ID == 0 {
				t.Errorf("%s: panel %q has id %d, want unique and non-zero", name, p.Title, p.ID)
			}
			seenIDs[p.ID] = true
			if p.Type == "row" {
				continue
			}
			checkPanel(t, name, p, variables)
		}
	}
}

func checkPanel(t *testing.T, dashboardName string, p panelJSON, variables []string) {
	t.Helper()
	where := dashboardName + ": panel " + p.Title
	if p.Title == "" || p.Description == "" {
		t.Errorf("%s: needs a title and a description", where)
	}
	if !slices.Contains(allowedUnits, p.FieldConfig.Defaults.Unit) {
		t.Errorf("%s: unit %q, want one of %v", where, p.FieldConfig.Defaults.Unit, allowedUnits)
	}
	if p.Datasource.UID != "$datasource" {
		t.Errorf("%s: datasource %q, want $datasource", where, p.Datasource.UID)
	}
	if len(p.Targets) == 0 {
		t.Errorf("%s: has no queries", where)
	}
	for _, target := range p.Targets {
		if target.RefID == "" {
			t.Errorf("%s: query without refId: %s", where, target.Expr)
		}
		if rateCall.MatchString(target.Expr) && !strings.Contains(target.Expr, "[$__rate_interval]") {
			t.Errorf("%s: rate without $__rate_interval: %s", where, target.Expr)
		}
		for _, variable := range []string{"job", "instance", "source", "desk", "request_type", "priority", "customer_group", "team"} {
			if strings.Contains(target.Expr, "$"+variable) && !slices.Contains(variables, variable) {
				t.Errorf("%s: query uses $%s, which the dashboard does not define: %s", where, variable, target.Expr)
			}
		}
	}
}
