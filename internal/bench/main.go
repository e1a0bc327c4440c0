// Command servicedesk_bench measures the exporter against the performance
// budgets of issue #5: it generates N tickets into the test suite's fake
// Jira Cloud (in this process) with a simulated latency per request, runs
// the real sync path (store, Jira source, poller, collector behind the exporter's /metrics handler)
// in a child process so that the exporter's CPU and RSS exclude the fake and
// the scrapers, prints a table of medians over repeated runs with each
// figure's ratio to its budget, and rewrites the generated section of
// BENCHMARKS.md.
//
//	go run ./internal/bench -n 10000,100000 -latency 20ms -runs 3
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/source/jira"
)

func main() {
	if configPath := os.Getenv(childEnv); configPath != "" {
		if err := childMain(configPath); err != nil {
			fmt.Fprintln(os.Stderr, "servicedesk_bench exporter side:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "servicedesk_bench:", err)
		os.Exit(1)
	}
}

// benchConfig is the parsed command line.
type benchConfig struct {
	sizes      []int
	baselineN  int
	runs       int
	opts       scenarioOptions
	out        string
	runTimeout time.Duration
}

func parseFlags(args []string) (benchConfig, error) {
	fs := flag.NewFlagSet("servicedesk_bench", flag.ContinueOnError)
	sizes := fs.String("n", "10000,100000", "comma-separated ticket counts to measure")
	baseline := fs.Int("baseline", 1000, "ticket count whose /metrics p99 the others are compared with (0: none)")
	runs := fs.Int("runs", 3, "runs per ticket count; the table shows medians")
	latency := fs.Duration("latency", 20*time.Millisecond, "latency the fake Jira adds to every response")
	rps := fs.Float64("rps", 200, "the exporter's jira.requests_per_second (the shipped default 5 makes a 100k sync rate-bound at >= 220 s)")
	changed := fs.Float64("changed", 0.01, "fraction of tickets changed before the incremental poll")
	scrapers := fs.Int("scrapers", 50, "concurrent /metrics clients")
	perScraper := fs.Int("scrapes", 100, "requests per /metrics client (bound)")
	scrapeTime := fs.Duration("scrape-time", 60*time.Second, "time bound of the scrape phase")
	maxRequests := fs.Int("max-requests", 0, "/metrics in-flight limit (--web.max-requests); 0: the number of scrapers")
	profileDir := fs.String("profile", "", "directory for CPU and heap profiles of the exporter side")
	out := fs.String("out", "BENCHMARKS.md", "file whose generated section is rewritten; empty: print only")
	workDir := fs.String("work", "", "directory for the store and config (default: a temporary one, removed)")
	stepTimeout := fs.Duration("step-timeout", 5*time.Minute, "bound on each step (sync, poll, quit) of the exporter side")
	runTimeout := fs.Duration("timeout", 60*time.Minute, "bound on the whole benchmark")
	seed := fs.Uint64("seed", 1, "generator seed")
	if err := fs.Parse(args); err != nil {
		return benchConfig{}, err
	}
	var ns []int
	for s := range strings.SplitSeq(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 100 {
			return benchConfig{}, fmt.Errorf("-n: %q is not a ticket count of at least 100", s)
		}
		ns = append(ns, n)
	}
	if *runs < 1 || *scrapers < 1 || *perScraper < 1 || *changed <= 0 || *changed > 1 {
		return benchConfig{}, fmt.Errorf("-runs, -scrapers and -scrapes must be positive and -changed in (0, 1]")
	}
	if *maxRequests == 0 {
		*maxRequests = *scrapers
	}
	return benchConfig{
		sizes: ns, baselineN: *baseline, runs: *runs, out: *out, runTimeout: *runTimeout,
		opts: scenarioOptions{
			Seed: *seed, Latency: *latency, RPS: *rps, ChangedFraction: *changed,
			Scrapers: *scrapers, ScrapesPerScraper: *perScraper, ScrapeTime: *scrapeTime, MaxRequests: *maxRequests,
			ProfileDir: *profileDir, StepTimeout: *stepTimeout, WorkDir: *workDir,
		},
	}, nil
}

func run(args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, cfg.runTimeout)
	defer cancelTimeout()

	self, err := os.Executable()
	if err != nil {
		return err
	}
	cfg.opts.Child = func(env []string) *exec.Cmd {
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), env...)
		return cmd
	}
	if cfg.opts.WorkDir == "" {
		dir, err := os.MkdirTemp("", "servicedesk_bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.opts.WorkDir = dir
	}
	if cfg.opts.ProfileDir != "" {
		if err := os.MkdirAll(cfg.opts.ProfileDir, 0o750); err != nil {
			return err
		}
	}

	started := time.Now()
	results, err := measure(ctx, cfg, func(msg string) { fmt.Fprintln(os.Stderr, msg) })
	if err != nil {
		return err
	}
	report, misses := render(cfg, results, started, strings.Join(append([]string{"go run ./internal/bench"}, args...), " "))
	fmt.Print(report)
	if cfg.out != "" {
		if err := writeBenchmarks(cfg.out, report); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "wrote", cfg.out)
	}
	if len(misses) > 0 {
		fmt.Fprintf(os.Stderr, "%d budget(s) missed\n", len(misses))
	}
	return nil
}

// measure runs every size (the baseline first) cfg.runs times.
func measure(ctx context.Context, cfg benchConfig, progress func(string)) (map[int][]figures, error) {
	ns := sizesWithBaseline(cfg)
	results := map[int][]figures{}
	for i := range cfg.runs {
		for _, n := range ns {
			o := cfg.opts
			o.N = n
			t := time.Now()
			f, err := runScenario(ctx, o)
			if err != nil {
				return nil, fmt.Errorf("run %d at N = %d: %w", i+1, n, err)
			}
			results[n] = append(results[n], f)
			progress(fmt.Sprintf("N = %d run %d/%d: sync %.2f s, %d requests (budget %d), CPU %.2f s; idle poll %.3f s %v; %d changed: %.3f s %v; /metrics p99 %.1f ms; peak RSS %d MiB (%.0f s)",
				n, i+1, cfg.runs, f.SyncSeconds, f.SyncRequests, requestBudget(n), f.SyncCPUSeconds, f.IdleSeconds, f.IdleCounts,
				f.Changed, f.ChangedSeconds, f.ChangedCounts, f.ScrapeP99*1000, f.LifePeakRSSKiB/1024, time.Since(t).Seconds()))
		}
	}
	return results, nil
}

func sizesWithBaseline(cfg benchConfig) []int {
	ns := slices.Clone(cfg.sizes)
	if cfg.baselineN > 0 && !slices.Contains(ns, cfg.baselineN) {
		ns = append(ns, cfg.baselineN)
	}
	slices.Sort(ns)
	return ns
}

// render is the generated section: machine, command, table, misses.
func render(cfg benchConfig, results map[int][]figures, started time.Time, command string) (string, []string) {
	ns := sizesWithBaseline(cfg)
	var baselineP99 float64
	if fs := results[cfg.baselineN]; cfg.baselineN > 0 && len(fs) > 0 {
		values := make([]float64, 0, len(fs))
		for _, f := range fs {
			values = append(values, f.ScrapeP99)
		}
		baselineP99 = median(values)
	}
	tbl, misses := table(rows(cfg.opts.Latency, baselineP99, cfg.baselineN, cfg.opts.Scrapers), ns, results)
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s by `%s`.\n\n", started.UTC().Format("2006-01-02 15:04 MST"), command)
	fmt.Fprintf(&b, "- Machine: %s, %d CPUs (GOMAXPROCS %d), %s, %s %s/%s; shared with other work, see the load averages.\n",
		cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), memTotal(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "- Fake Jira Cloud in the harness process with %s latency per response, serving issues rendered before the run (Options.CacheRenders); the exporter side (store, Jira source, poller, collector behind the exporter's /metrics handler with the Go and process collectors) in a child process, so its CPU and RSS exclude the fake and the scrapers.\n", cfg.opts.Latency)
	fmt.Fprintf(&b, "- jira.requests_per_second %g; jira.concurrency %d and page_size %d, the defaults. /metrics: %d concurrent keep-alive clients, at most %d scrapes each within %s, in-flight limit %d.\n",
		cfg.opts.RPS, jira.DefaultConfig.Concurrency, jira.DefaultConfig.PageSize, cfg.opts.Scrapers, cfg.opts.ScrapesPerScraper, cfg.opts.ScrapeTime, cfg.opts.MaxRequests)
	fmt.Fprintf(&b, "- Each cell is the median of %d run(s); \"(0.42× ✓)\" is the value ÷ its budget at that N. Discovery requests (%s) are left out of the request ratio and listed apart; the sequential floor counts them.\n\n",
		cfg.runs, strings.Join(discoveryEndpoints, ", "))
	b.WriteString(tbl)
	if len(misses) == 0 {
		b.WriteString("\nEvery budget is met.\n")
	} else {
		b.WriteString("\nMissed budgets:\n\n")
		for _, m := range misses {
			fmt.Fprintf(&b, "- %s\n", m)
		}
	}
	return b.String(), misses
}

func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	raw, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown memory"
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && name == "MemTotal" {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
			return fmt.Sprintf("%.0f GiB RAM", float64(kib)/(1<<20))
		}
	}
	return "unknown memory"
}
