package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
)

// TestDemoSegmentsSumToDeskTotals checks, on the demo desk through the
// whole pipeline, that the per customer group, per team and cross series
// add up exactly to each desk's existing families, after a full delivery
// and after a day of incremental polls that move tickets between teams.
func TestDemoSegmentsSumToDeskTotals(t *testing.T) {
	p := newPipeline(t, filepath.Join(t.TempDir(), "sd.db"))
	for step := range 9 {
		p.pollAt(t, goldenClock.Add(time.Duration(step)*3*time.Hour))
		if step != 0 && step != 8 {
			continue
		}
		families, err := p.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, problem := range exportertest.SegmentSumProblems(families) {
			t.Errorf("after %d polls: %s", step+1, problem)
		}
	}
}
