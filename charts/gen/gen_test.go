package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChartCopiesMatchSources is the drift test: a rule or dashboard added
// or changed without regenerating the chart fails here.
func TestChartCopiesMatchSources(t *testing.T) {
	want, err := plan("../..")
	if err != nil {
		t.Fatal(err)
	}
	have, err := existing("../..")
	if err != nil {
		t.Fatal(err)
	}
	if d := drift(want, have); len(d) > 0 {
		t.Fatalf("the chart's copies of rules/ and dashboards/json/ are out of date; run from the repository root:\n\n\tgo run ./charts/gen\n\n%s", strings.Join(d, "\n"))
	}
}

// TestWriteFollowsTheSources runs gen on a scratch repository: new files
// appear, changed ones are rewritten, removed ones go, and drift sees each
// of those before the write.
func TestWriteFollowsTheSources(t *testing.T) {
	root := t.TempDir()
	put := func(rel, content string) {
		t.Helper()
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("rules/a.yml", "groups: []\n")
	put("rules/tests/a_test.yml", "not copied\n")
	put("dashboards/json/d.json", "{}\n")
	put(chartDir+"/files/rules/gone.yml", "stale\n")
	put(chartDir+"/files/dashboards/d.json", "{\"old\": true}\n")

	want, err := plan(root)
	if err != nil {
		t.Fatal(err)
	}
	have, err := existing(root)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(drift(want, have), "\n")
	for _, w := range []string{
		chartDir + "/files/dashboards/d.json: differs from its source",
		chartDir + "/files/rules/a.yml: missing",
		chartDir + "/files/rules/gone.yml: has no source any more",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("drift does not report %q; it says:\n%s", w, got)
		}
	}
	if strings.Contains(got, "a_test.yml") {
		t.Errorf("rule unit tests are not part of the chart, but drift lists them:\n%s", got)
	}

	if err := write(root, want); err != nil {
		t.Fatal(err)
	}
	have, err = existing(root)
	if err != nil {
		t.Fatal(err)
	}
	if d := drift(want, have); len(d) > 0 {
		t.Fatalf("after write: %v", d)
	}
	if len(have) != 2 {
		t.Fatalf("after write the chart holds %d copies, want 2: %v", len(have), have)
	}
}
