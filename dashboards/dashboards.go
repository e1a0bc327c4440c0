package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// OutputDir is where the generated JSON is committed, relative to the
// repository root.
const OutputDir = "dashboards/json"

// File is one generated dashboard and the file name it is written under.
type File struct {
	Name      string
	Dashboard dashboard.Dashboard
}

// All builds every dashboard, in a fixed order.
func All() ([]File, error) {
	builders := []struct {
		name    string
		builder *dashboard.DashboardBuilder
	}{
		{"servicedesk-overview.json", overviewDashboard()},
		{"servicedesk-sla.json", slaDashboard()},
		{"servicedesk-satisfaction.json", satisfactionDashboard()},
		{"servicedesk-internal-customers.json", customersDashboard()},
		{"servicedesk-exporter-health.json", healthDashboard()},
	}
	files := make([]File, 0, len(builders))
	for _, b := range builders {
		built, err := b.builder.Build()
		if err != nil {
			return nil, fmt.Errorf("building %s: %w", b.name, err)
		}
		numberPanels(&built)
		files = append(files, File{Name: b.name, Dashboard: built})
	}
	return files, nil
}

// Render is the exact bytes committed for a dashboard: indented JSON with a
// trailing newline, so diffs stay readable.
func Render(d dashboard.Dashboard) ([]byte, error) {
	raw, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(raw, '\n'), nil
}

// WriteAll renders every dashboard into dir.
func WriteAll(dir string) error {
	files, err := All()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		raw, err := Render(f.Dashboard)
		if err != nil {
			return fmt.Errorf("rendering %s: %w", f.Name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name), raw, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// numberPanels gives every panel and row a unique id in layout order. The
// builders leave ids unset, and Grafana needs them unique for panel links,
// "view panel" URLs and repeated rows.
func numberPanels(d *dashboard.Dashboard) {
	for i := range d.Panels {
		id := uint32(i + 1)
		switch {
		case d.Panels[i].Panel != nil:
			d.Panels[i].Panel.Id = &id
		case d.Panels[i].RowPanel != nil:
			d.Panels[i].RowPanel.Id = id
		}
	}
}
