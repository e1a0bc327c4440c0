// Command gen writes the Grafana dashboards as JSON. Run it from the
// repository root: go run ./dashboards/gen
package main

import (
	"flag"
	"log"

	"github.com/servicedesk-exporter/servicedesk_exporter/dashboards"
)

func main() {
	outputDir := flag.String("out", dashboards.OutputDir, "directory to write the dashboard JSON files into")
	flag.Parse()
	if err := dashboards.WriteAll(*outputDir); err != nil {
		log.Fatal(err)
	}
}
