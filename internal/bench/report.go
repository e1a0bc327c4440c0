package main

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

// row is one figure of the table: how to read it from a run, and the
// budget that applies at a given N, if any.
type row struct {
	name string
	get  func(figures) float64
	// format renders a value.
	format func(float64) string
	// limit returns the budget at this N and whether one applies; a value
	// passes when value ≤ limit and its ratio is value ÷ limit.
	limit func(n int) (float64, bool)
	// budget describes the limit for the table's budget column.
	budget string
}

func integer(v float64) string  { return fmt.Sprintf("%.0f", v) }
func ratio(v float64) string    { return fmt.Sprintf("%.3f", v) }
func ratio2(v float64) string   { return fmt.Sprintf("%.2f", v) }
func seconds(v float64) string  { return fmt.Sprintf("%.2f s", v) }
func millis(v float64) string   { return fmt.Sprintf("%.1f ms", v*1000) }
func mebibyte(v float64) string { return fmt.Sprintf("%.0f MiB", v/1024) }
func bytesize(v float64) string { return fmt.Sprintf("%.0f B", v) }

func always(limit float64) func(int) (float64, bool) {
	return func(int) (float64, bool) { return limit, true }
}

func atLeast(minN int, limit float64) func(int) (float64, bool) {
	return func(n int) (float64, bool) { return limit, n >= minN }
}

func never(int) (float64, bool) { return 0, false }

// rows builds the table for a run configuration; baseline is the small-N
// /metrics p99 the others are compared with (0 if not measured).
func rows(latency time.Duration, baselineP99 float64, baselineN, scrapers int) []row {
	// The sequential floor: every request of the sync, one after another,
	// each costing at least the latency.
	floor := func(f figures) float64 { return float64(f.SyncRequests+f.DiscoveryRequests) * latency.Seconds() }
	at100k := func(limit float64) func(int) (float64, bool) {
		return func(n int) (float64, bool) { return limit, n == 100000 && latency == 20*time.Millisecond }
	}
	p99Relative := func(n int) (float64, bool) { return 1.5, baselineP99 > 0 && n > baselineN }
	return []row{
		{name: "full sync: API requests (without discovery)", get: func(f figures) float64 { return float64(f.SyncRequests) }, format: integer, limit: never},
		{name: "… search pages", get: func(f figures) float64 { return float64(f.SearchPages) }, format: integer, limit: never},
		{name: "… of which id-only pages (the walk that cuts the ranges)", get: func(f figures) float64 { return float64(f.IDPages) }, format: integer, limit: never},
		{name: "… changelog bulkfetches", get: func(f figures) float64 { return float64(f.Bulkfetches) }, format: integer, limit: never},
		{name: "full sync: minimum ceil(N/100)+ceil(N/1000)", get: func(f figures) float64 { return float64(minimumRequests(f.N)) }, format: integer, limit: never},
		{name: "full sync: requests ÷ (minimum + ceil(N/5000) id pages)", get: func(f figures) float64 { return float64(f.SyncRequests) / float64(requestBudget(f.N)) },
			format: ratio, limit: always(1), budget: "≤ 1"},
		{name: "discovery requests (not in the ratio)", get: func(f figures) float64 { return float64(f.DiscoveryRequests) }, format: integer, limit: never},
		{name: "full sync: wall time", get: func(f figures) float64 { return f.SyncSeconds }, format: seconds, limit: at100k(15), budget: "≤ 15 s (N = 100k, 20 ms)"},
		{name: "full sync: sequential floor (all its requests × latency)", get: floor, format: seconds, limit: never},
		{name: "full sync: wall ÷ sequential floor", get: func(f figures) float64 {
			if floor(f) == 0 {
				return math.NaN()
			}
			return f.SyncSeconds / floor(f)
		}, format: ratio, limit: at100k(0.35), budget: "≤ 0.35 (N = 100k, 20 ms)"},
		{name: "full sync: exporter CPU", get: func(f figures) float64 { return f.SyncCPUSeconds }, format: seconds, limit: never},
		{name: "exporter CPU per 10k tickets", get: func(f figures) float64 { return f.SyncCPUSeconds / float64(f.N) * 10000 }, format: seconds, limit: atLeast(10000, 1.0), budget: "≤ 1.0 s (N ≥ 10k)"},
		{name: "fake Jira CPU during the sync (harness process)", get: func(f figures) float64 { return f.FakeCPUSeconds }, format: seconds, limit: never},
		{name: "peak RSS during the sync (VmHWM)", get: func(f figures) float64 { return float64(f.SyncPeakRSSKiB) }, format: mebibyte, limit: always(200 * 1024), budget: "≤ 200 MiB"},
		{name: "RSS after the sync (VmRSS)", get: func(f figures) float64 { return float64(f.AfterSyncRSSKiB) }, format: mebibyte, limit: always(200 * 1024), budget: "≤ 200 MiB"},
		{name: "peak RSS over sync, polls and scrapes", get: func(f figures) float64 { return float64(f.LifePeakRSSKiB) }, format: mebibyte, limit: always(200 * 1024), budget: "≤ 200 MiB"},
		{name: "idle poll: requests", get: func(f figures) float64 { return float64(f.IdleRequests) }, format: integer, limit: always(1), budget: "= 1"},
		{name: "idle poll: time beyond latency", get: func(f figures) float64 { return f.IdleSeconds - float64(f.IdleRequests)*latency.Seconds() },
			format: millis, limit: always(0.050), budget: "≤ 50 ms"},
		{name: "1% changed: tickets changed", get: func(f figures) float64 { return float64(f.Changed) }, format: integer, limit: never},
		{name: "1% changed: requests", get: func(f figures) float64 { return float64(f.ChangedRequests) }, format: integer, limit: never},
		{name: "1% changed: requests ÷ (minimum + 1)", get: func(f figures) float64 {
			return float64(f.ChangedRequests) / float64(minimumRequests(f.Changed)+1)
		}, format: ratio, limit: always(1), budget: "≤ 1"},
		{name: "1% changed: poll wall time", get: func(f figures) float64 { return f.ChangedSeconds }, format: seconds, limit: never},
		{name: fmt.Sprintf("/metrics p50 (%d concurrent scrapers)", scrapers), get: func(f figures) float64 { return f.ScrapeP50 }, format: millis, limit: never},
		{name: fmt.Sprintf("/metrics p99 (%d concurrent scrapers)", scrapers), get: func(f figures) float64 { return f.ScrapeP99 }, format: millis, limit: always(0.005), budget: "≤ 5 ms"},
		{name: fmt.Sprintf("/metrics p99 ÷ p99 at N=%d", baselineN), get: func(f figures) float64 {
			if baselineP99 == 0 {
				return math.NaN()
			}
			return f.ScrapeP99 / baselineP99
		}, format: ratio, limit: p99Relative, budget: "≤ 1.5"},
		{name: "/metrics floor p50: a bare net/http handler writing the same bytes", get: func(f figures) float64 { return f.FloorP50 }, format: millis, limit: never},
		{name: "/metrics floor p99", get: func(f figures) float64 { return f.FloorP99 }, format: millis, limit: never},
		{name: "/metrics p99 ÷ floor p99 (what the exporter's handler adds)", get: func(f figures) float64 {
			return f.ScrapeP99 / f.FloorP99
		}, format: ratio, limit: never},
		{name: "/metrics scrapes measured", get: func(f figures) float64 { return float64(f.Scrapes) }, format: integer, limit: never},
		{name: "/metrics failed scrapes", get: func(f figures) float64 { return float64(f.ScrapeErrors) }, format: integer, limit: always(0), budget: "= 0"},
		{name: "/metrics body size", get: func(f figures) float64 { return float64(f.ScrapeBytes) }, format: bytesize, limit: never},
		{name: "/metrics body size as sent (gzip)", get: func(f figures) float64 { return float64(f.ScrapeWireBytes) }, format: bytesize, limit: never},
		{name: "store file per ticket", get: func(f figures) float64 { return float64(f.StoreBytes) / float64(f.N) }, format: bytesize, limit: always(2048), budget: "≤ 2 KiB"},
		{name: "restart: store open + load", get: func(f figures) float64 { return f.RestartOpenSeconds }, format: seconds, limit: never},
		{name: "restart: in-process open → ready", get: func(f figures) float64 { return f.RestartReadySeconds }, format: seconds, limit: always(5), budget: "≤ 5 s"},
		{name: "restart: exec → /-/ready 200", get: func(f figures) float64 { return f.RestartSpawnReadySeconds }, format: seconds, limit: always(5), budget: "≤ 5 s"},
		{name: "restart: API requests before ready", get: func(f figures) float64 { return float64(f.RestartRequestsBeforeReady) }, format: integer, limit: always(0), budget: "= 0"},
		{name: "restart: requests of the first poll", get: func(f figures) float64 { return float64(f.RestartFirstPollRequests) }, format: integer, limit: never},
		{name: "restart: peak RSS (load + first poll)", get: func(f figures) float64 { return float64(f.RestartPeakRSSKiB) }, format: mebibyte, limit: always(200 * 1024), budget: "≤ 200 MiB"},
		{name: "load average (1 min) before the run", get: func(f figures) float64 { return f.Load1Before }, format: ratio2, limit: never},
		{name: "load average (1 min) after the run", get: func(f figures) float64 { return f.Load1After }, format: ratio2, limit: never},
	}
}

// median of a row's values over repeated runs; NaN values are ignored.
func median(values []float64) float64 {
	var v []float64
	for _, x := range values {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// quantile of durations in seconds (nearest rank).
func quantile(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return math.NaN()
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))].Seconds()
}

// cell renders a median with its ratio to the limit where one applies.
func cell(r row, n int, v float64) (string, bool) {
	if math.IsNaN(v) {
		return "–", true
	}
	s := r.format(v)
	limit, ok := r.limit(n)
	if !ok {
		return s, true
	}
	pass := v <= limit
	mark := "✓"
	if !pass {
		mark = "✗"
	}
	if limit == 0 {
		return fmt.Sprintf("%s (%s)", s, mark), pass // "= 0": no ratio
	}
	return fmt.Sprintf("%s (%.2f× %s)", s, v/limit, mark), pass
}

// table renders medians per N as a Markdown table and lists the misses.
func table(rs []row, ns []int, runs map[int][]figures) (string, []string) {
	var b strings.Builder
	b.WriteString("| figure |")
	for _, n := range ns {
		fmt.Fprintf(&b, " N = %d |", n)
	}
	b.WriteString(" budget |\n|---|")
	for range ns {
		b.WriteString("---:|")
	}
	b.WriteString("---|\n")
	var misses []string
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s |", r.name)
		for _, n := range ns {
			values := make([]float64, 0, len(runs[n]))
			for _, f := range runs[n] {
				values = append(values, r.get(f))
			}
			s, pass := cell(r, n, median(values))
			if !pass {
				misses = append(misses, fmt.Sprintf("%s at N = %d: %s, budget %s", r.name, n, s, r.budget))
			}
			fmt.Fprintf(&b, " %s |", s)
		}
		fmt.Fprintf(&b, " %s |\n", r.budget)
	}
	return b.String(), misses
}

// Markers delimit the generated part of BENCHMARKS.md; text outside them
// (the hand-written findings) is kept when the harness rewrites the file.
const (
	beginMarker = "<!-- servicedesk_bench:begin (generated; edit outside these markers) -->"
	endMarker   = "<!-- servicedesk_bench:end -->"
)

// writeBenchmarks replaces the generated section of path, creating the file
// with a heading and an empty findings section if needed.
func writeBenchmarks(path, generated string) error {
	section := beginMarker + "\n" + generated + endMarker + "\n"
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	text := string(old)
	i, j := strings.Index(text, beginMarker), strings.Index(text, endMarker)
	switch {
	case i >= 0 && j > i:
		text = text[:i] + section + text[j+len(endMarker)+1:]
	case len(text) == 0:
		text = "# Benchmarks\n\n" + section + "\n## Open findings\n\n"
	default:
		text += "\n" + section
	}
	return os.WriteFile(path, []byte(text), 0o644)
}
