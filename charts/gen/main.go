// Command gen copies the alert and recording rules (rules/*.yml) and the
// Grafana dashboards (dashboards/json/*.json) into the Helm chart, which
// cannot read files outside its own directory. The chart's PrometheusRule
// and dashboard ConfigMaps are built from these copies. Run it from the
// repository root after changing either source:
//
//	go run ./charts/gen
//
// The test next to it fails while the copies differ from their sources.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
)

// chartDir is the chart, relative to the repository root.
const chartDir = "charts/servicedesk-exporter"

// copySet is one directory of the chart filled from one glob of the repo.
type copySet struct {
	from string // glob relative to the repository root
	to   string // directory relative to the repository root, owned by gen
}

var copySets = []copySet{
	{from: "rules/*.yml", to: chartDir + "/files/rules"},
	{from: "dashboards/json/*.json", to: chartDir + "/files/dashboards"},
}

func main() {
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	want, err := plan(*root)
	if err != nil {
		log.Fatal(err)
	}
	if err := write(*root, want); err != nil {
		log.Fatal(err)
	}
}

// plan returns every file gen owns, by path relative to root, with the
// content it must have.
func plan(root string) (map[string][]byte, error) {
	want := map[string][]byte{}
	for _, cs := range copySets {
		sources, err := filepath.Glob(filepath.Join(root, cs.from))
		if err != nil {
			return nil, err
		}
		if len(sources) == 0 {
			return nil, fmt.Errorf("no files match %s under %s", cs.from, root)
		}
		for _, src := range sources {
			content, err := os.ReadFile(src)
			if err != nil {
				return nil, err
			}
			want[filepath.Join(cs.to, filepath.Base(src))] = content
		}
	}
	return want, nil
}

// existing returns the files now in gen's directories.
func existing(root string) (map[string][]byte, error) {
	have := map[string][]byte{}
	for _, cs := range copySets {
		entries, err := os.ReadDir(filepath.Join(root, cs.to))
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() {
				return nil, fmt.Errorf("%s: unexpected directory %s", cs.to, e.Name())
			}
			rel := filepath.Join(cs.to, e.Name())
			content, err := os.ReadFile(filepath.Join(root, rel))
			if err != nil {
				return nil, err
			}
			have[rel] = content
		}
	}
	return have, nil
}

// drift lists how the chart's copies differ from want.
func drift(want, have map[string][]byte) []string {
	var out []string
	for path, content := range want {
		switch got, ok := have[path]; {
		case !ok:
			out = append(out, path+": missing")
		case !bytes.Equal(got, content):
			out = append(out, path+": differs from its source")
		}
	}
	for path := range have {
		if _, ok := want[path]; !ok {
			out = append(out, path+": has no source any more")
		}
	}
	slices.Sort(out)
	return out
}

// write makes gen's directories hold exactly want.
func write(root string, want map[string][]byte) error {
	have, err := existing(root)
	if err != nil {
		return err
	}
	for path := range have {
		if _, ok := want[path]; !ok {
			if err := os.Remove(filepath.Join(root, path)); err != nil {
				return err
			}
		}
	}
	for path, content := range want {
		full := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}
