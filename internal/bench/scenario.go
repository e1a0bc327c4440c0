package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
)

// scenarioOptions shape one run at one N.
type scenarioOptions struct {
	N       int
	Seed    uint64
	Latency time.Duration // added by the fake Jira to every response
	// RPS is the exporter's jira.requests_per_second. The shipped default
	// (5) makes a 100k sync rate-bound by design; the harness sets it high
	// enough that latency, not the limiter, is what the figures show.
	RPS float64
	// ChangedFraction of the tickets is changed before the incremental poll.
	ChangedFraction float64

	Scrapers          int           // concurrent /metrics clients
	ScrapesPerScraper int           // bound on each client's loop
	ScrapeTime        time.Duration // time bound on the whole scrape phase
	MaxRequests       int           // /metrics in-flight limit (--web.max-requests)

	// ProfileDir, when set, receives CPU and heap profiles of the exporter
	// side: sync.cpu.pprof, sync.heap.pprof, scrape.cpu.pprof, restart.heap.pprof.
	ProfileDir string
	// Child returns the command that runs the exporter side with env set.
	Child func(env []string) *exec.Cmd
	// StepTimeout bounds every child command, so a hung poll ends the run.
	StepTimeout time.Duration
	// WorkDir holds the store and config; it is left for inspection.
	WorkDir string
}

// figures are one run's measurements at one N.
type figures struct {
	N int

	SyncRequests      int // everything but discovery
	DiscoveryRequests int // serverInfo, myself, field, status, statuscategory, approximate_count
	SearchPages       int
	IDPages           int // id-only searches: the walk that cuts the sync into ranges
	Bulkfetches       int
	SyncSeconds       float64
	SyncCPUSeconds    float64 // exporter process
	FakeCPUSeconds    float64 // harness process (the fake Jira) during the sync
	SyncPeakRSSKiB    int64
	AfterSyncRSSKiB   int64
	AfterSyncHeap     uint64
	Tracked           int

	IdleRequests int
	IdleSeconds  float64
	IdleCounts   map[string]int // by the fake's endpoint names

	Changed         int
	ChangedRequests int
	ChangedSeconds  float64
	ChangedCounts   map[string]int

	Scrapes         int
	ScrapeErrors    int
	ScrapeBytes     int     // uncompressed
	ScrapeWireBytes int     // as sent (gzip)
	ScrapeP50       float64 // seconds
	ScrapeP99       float64
	ScrapeSeconds   float64 // wall time of the concurrent phase
	// FloorP50 and FloorP99 are the same scrapers' latencies against a bare
	// net/http handler writing the same bytes in the exporter's process.
	FloorP50, FloorP99 float64

	LifePeakRSSKiB int64 // sync, polls and scrapes
	StoreBytes     int64

	RestartOpenSeconds         float64
	RestartReadySeconds        float64 // in-process, from before store.Open
	RestartSpawnReadySeconds   float64 // from exec to /-/ready answering 200
	RestartRequestsBeforeReady int
	RestartFirstPollRequests   int
	RestartPeakRSSKiB          int64

	Load1Before, Load1After float64
}

// discoveryEndpoints are the fake's names for the requests that learn the
// site, not tickets; the issue's minimum leaves them out.
var discoveryEndpoints = []string{"serverInfo", "myself", "field", "status", "statuscategory", "approximate_count"}

// minimumRequests is the issue's floor for a Cloud sync of n tickets: one
// search page per 100 and one changelog bulkfetch per 1000.
func minimumRequests(n int) int {
	if n == 0 {
		return 0
	}
	return ceilDiv(n, 100) + ceilDiv(n, 1000)
}

// requestBudget is what a concurrent sync may send beyond discovery: the
// minimum plus one id-only page per 5000 tickets (the walk that cuts the
// scope into ranges).
func requestBudget(n int) int { return minimumRequests(n) + ceilDiv(n, 5000) }

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// runScenario hosts a fake Jira Cloud with N generated tickets and drives
// one exporter process through: full sync, idle poll, a poll after 1% of the
// tickets changed, 50 concurrent scrapers, then a restart on the same store.
func runScenario(ctx context.Context, o scenarioOptions) (figures, error) {
	f := figures{N: o.N, Load1Before: load1()}
	start := time.Now()
	// The fake renders each issue once, before the run, so that during the
	// sync it costs a copy of bytes instead of competing with the exporter
	// for the two cores (its CPU is still reported apart).
	srv := fakejira.New(fakejira.Options{Deployment: fakejira.DeploymentCloud, Seed: o.Seed, CacheRenders: true})
	defer srv.Close()
	issues := fakejira.Generate(o.Seed, o.N, fakejira.GenerateOptions{End: start})
	srv.Add(issues...)
	srv.Prerender("status", "resolution") // the fieldIds of the exporter's bulkfetch
	runtime.GC()                          // the cache's garbage, before the clock runs

	storePath := filepath.Join(o.WorkDir, "servicedesk.db")
	configPath := filepath.Join(o.WorkDir, "config.yaml")
	if err := os.Remove(storePath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return f, err
	}
	if err := os.WriteFile(configPath, []byte(childConfig(srv.URL, storePath, o.RPS)), 0o600); err != nil {
		return f, err
	}
	srv.SetLatency(o.Latency)

	// Full sync.
	srv.ResetCounts()
	c, _, err := startChild(ctx, o, configPath)
	if err != nil {
		return f, err
	}
	defer c.kill()
	if o.ProfileDir != "" {
		if _, err := c.do(cmdCPUProfile+" "+filepath.Join(o.ProfileDir, profileName(o.N, "sync.cpu")), o.StepTimeout); err != nil {
			return f, err
		}
	}
	stopHarnessProfile, err := startHarnessProfile(o, "sync.harness.cpu")
	if err != nil {
		return f, err
	}
	fakeCPU := cpuSeconds()
	rep, err := c.poll(o.StepTimeout)
	f.FakeCPUSeconds = cpuSeconds() - fakeCPU
	stopHarnessProfile()
	if err != nil {
		return f, fmt.Errorf("full sync: %w", err)
	}
	counts := srv.Counts()
	for _, e := range discoveryEndpoints {
		f.DiscoveryRequests += counts[e]
	}
	f.SyncRequests = srv.Total() - f.DiscoveryRequests
	f.SearchPages, f.Bulkfetches = counts["search_jql"], counts["changelog_bulkfetch"]
	for _, r := range srv.Requests() {
		if q, err := url.ParseQuery(r.Query); err == nil && r.Endpoint == "search_jql" && q.Get("fields") == "id" {
			f.IDPages++
		}
	}
	f.SyncSeconds, f.SyncCPUSeconds = rep.PollSeconds, rep.CPUSeconds
	f.SyncPeakRSSKiB, f.AfterSyncRSSKiB, f.AfterSyncHeap, f.Tracked = rep.PeakRSSKiB, rep.RSSKiB, rep.HeapInuse, rep.Tracked
	if f.Tracked != o.N {
		return f, fmt.Errorf("full sync tracks %d tickets, want %d", f.Tracked, o.N)
	}
	if o.ProfileDir != "" {
		if _, err := c.do(cmdCPUStop, o.StepTimeout); err != nil {
			return f, err
		}
		if _, err := c.do(cmdHeapProfile+" "+filepath.Join(o.ProfileDir, profileName(o.N, "sync.heap")), o.StepTimeout); err != nil {
			return f, err
		}
	}

	// Idle incremental poll.
	srv.ResetCounts()
	if rep, err = c.poll(o.StepTimeout); err != nil {
		return f, fmt.Errorf("idle poll: %w", err)
	}
	f.IdleRequests, f.IdleSeconds, f.IdleCounts = srv.Total(), rep.PollSeconds, srv.Counts()

	// Incremental poll after a fraction of the tickets changed: open ones
	// are resolved (a changelog entry), done ones get a customer comment.
	step := max(1, int(1/o.ChangedFraction))
	for i := step / 2; i < len(issues); i += step {
		is := &issues[i]
		if is.Resolution == "" {
			err = srv.Transition(is.Key, fakejira.StatusResolved)
		} else {
			err = srv.AddComment(is.Key, fakejira.RoleCustomer, true)
		}
		if err != nil {
			return f, fmt.Errorf("change %s: %w", is.Key, err)
		}
		f.Changed++
	}
	srv.ResetCounts()
	if rep, err = c.poll(o.StepTimeout); err != nil {
		return f, fmt.Errorf("incremental poll: %w", err)
	}
	f.ChangedRequests, f.ChangedSeconds, f.ChangedCounts = srv.Total(), rep.PollSeconds, srv.Counts()

	// Concurrent scrapes of /metrics, after the harness collected the
	// garbage of the polls (the fake's renders).
	runtime.GC()
	if o.ProfileDir != "" {
		if _, err := c.do(cmdCPUProfile+" "+filepath.Join(o.ProfileDir, profileName(o.N, "scrape.cpu")), o.StepTimeout); err != nil {
			return f, err
		}
	}
	stopHarnessProfile, err = startHarnessProfile(o, "scrape.harness.cpu")
	if err != nil {
		return f, err
	}
	sr, err := scrape(ctx, "http://"+c.addr+"/metrics", o.Scrapers, o.ScrapesPerScraper, o.ScrapeTime)
	stopHarnessProfile()
	if err != nil {
		return f, err
	}
	f.Scrapes, f.ScrapeErrors, f.ScrapeBytes, f.ScrapeWireBytes = len(sr.latencies), sr.errors, sr.bytes, sr.wireBytes
	f.ScrapeP50, f.ScrapeP99, f.ScrapeSeconds = quantile(sr.latencies, 0.50), quantile(sr.latencies, 0.99), sr.wall.Seconds()
	if o.ProfileDir != "" {
		if _, err := c.do(cmdCPUStop, o.StepTimeout); err != nil {
			return f, err
		}
	}

	// The same scrapers against the same bytes from a bare handler in the
	// same process: the floor the machine and net/http set.
	if rep, err = c.do(cmdFloor, o.StepTimeout); err != nil {
		return f, fmt.Errorf("floor: %w", err)
	}
	runtime.GC()
	floor, err := scrape(ctx, "http://"+rep.Addr+"/metrics", o.Scrapers, o.ScrapesPerScraper, o.ScrapeTime)
	if err != nil {
		return f, fmt.Errorf("floor: %w", err)
	}
	if floor.wireBytes != f.ScrapeWireBytes {
		return f, fmt.Errorf("floor: served %d bytes, the exporter %d", floor.wireBytes, f.ScrapeWireBytes)
	}
	f.FloorP50, f.FloorP99 = quantile(floor.latencies, 0.50), quantile(floor.latencies, 0.99)

	if rep, err = c.do(cmdQuit, o.StepTimeout); err != nil {
		return f, err
	}
	f.LifePeakRSSKiB = rep.PeakRSSKiB
	if err := c.wait(o.StepTimeout); err != nil {
		return f, err
	}
	info, err := os.Stat(storePath)
	if err != nil {
		return f, err
	}
	f.StoreBytes = info.Size()

	// Restart on the same store.
	srv.ResetCounts()
	spawned := time.Now()
	c, hello, err := startChild(ctx, o, configPath)
	if err != nil {
		return f, fmt.Errorf("restart: %w", err)
	}
	defer c.kill()
	if err := waitReady(ctx, "http://"+c.addr+"/-/ready", o.StepTimeout); err != nil {
		return f, fmt.Errorf("restart: %w", err)
	}
	f.RestartSpawnReadySeconds = time.Since(spawned).Seconds()
	f.RestartRequestsBeforeReady = srv.Total()
	f.RestartOpenSeconds, f.RestartReadySeconds = hello.OpenSeconds, hello.ReadySeconds
	if o.ProfileDir != "" {
		if _, err := c.do(cmdHeapProfile+" "+filepath.Join(o.ProfileDir, profileName(o.N, "restart.heap")), o.StepTimeout); err != nil {
			return f, err
		}
	}
	srv.ResetCounts()
	if rep, err = c.poll(o.StepTimeout); err != nil {
		return f, fmt.Errorf("first poll after restart: %w", err)
	}
	f.RestartFirstPollRequests = srv.Total()
	if rep, err = c.do(cmdQuit, o.StepTimeout); err != nil {
		return f, err
	}
	f.RestartPeakRSSKiB = rep.PeakRSSKiB
	if err := c.wait(o.StepTimeout); err != nil {
		return f, err
	}
	f.Load1After = load1()
	return f, nil
}

func profileName(n int, what string) string { return fmt.Sprintf("n%d.%s.pprof", n, what) }

// startHarnessProfile profiles this process (the fake Jira and the
// scrapers) into the profile directory, if one is set; stop ends it.
func startHarnessProfile(o scenarioOptions, what string) (stop func(), err error) {
	if o.ProfileDir == "" {
		return func() {}, nil
	}
	out, err := os.Create(filepath.Join(o.ProfileDir, profileName(o.N, what)))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		_ = out.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = out.Close()
	}, nil
}

// childConfig is the exporter's config: one Cloud source whose lookback
// (120d) covers the generator's 90 days, so every ticket is in scope.
func childConfig(url, storePath string, rps float64) string {
	return fmt.Sprintf(`store:
  path: %s
sources:
  - name: jira
    type: jira
    poll_interval: 1m
    lookback: 120d
    jira:
      url: %s
      jql: project in (IT, HR, FAC)
      requests_per_second: %s
    http_client:
      basic_auth: { username: %s, password: %s }
`, storePath, url, strconv.FormatFloat(rps, 'f', -1, 64), fakejira.DefaultEmail, fakejira.DefaultAPIToken)
}

// child is a running exporter side.
type child struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *bytes.Buffer
	addr   string
	done   chan error
}

func startChild(ctx context.Context, o scenarioOptions, configPath string) (*child, childReport, error) {
	cmd := o.Child([]string{childEnv + "=" + configPath, childMaxRequestsEnv + "=" + strconv.Itoa(o.MaxRequests)})
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, childReport{}, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, childReport{}, err
	}
	c := &child{cmd: cmd, in: in, out: bufio.NewReader(out), stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		return nil, childReport{}, err
	}
	go func() {
		<-ctx.Done()
		c.kill()
	}()
	hello, err := c.read(o.StepTimeout)
	if err != nil {
		c.kill()
		return nil, childReport{}, err
	}
	c.addr = hello.Addr
	return c, hello, nil
}

// read waits for the child's next report, killing it after timeout.
func (c *child) read(timeout time.Duration) (childReport, error) {
	type result struct {
		line []byte
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := c.out.ReadBytes('\n')
		ch <- result{line, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.err != nil {
			return childReport{}, fmt.Errorf("exporter process: %w; stderr: %s", r.err, strings.TrimSpace(c.stderr.String()))
		}
		var rep childReport
		if err := json.Unmarshal(r.line, &rep); err != nil {
			return childReport{}, fmt.Errorf("exporter process said %q: %w", r.line, err)
		}
		return rep, nil
	case <-timer.C:
		c.kill()
		return childReport{}, fmt.Errorf("exporter process did not answer within %s", timeout)
	}
}

func (c *child) do(command string, timeout time.Duration) (childReport, error) {
	if _, err := io.WriteString(c.in, command+"\n"); err != nil {
		return childReport{}, fmt.Errorf("send %q: %w", command, err)
	}
	rep, err := c.read(timeout)
	if err == nil && rep.Err != "" {
		err = fmt.Errorf("%s: %s", command, rep.Err)
	}
	return rep, err
}

func (c *child) poll(timeout time.Duration) (childReport, error) { return c.do(cmdPoll, timeout) }

// wait reaps the child after quit.
func (c *child) wait(timeout time.Duration) error {
	go func() { c.done <- c.cmd.Wait() }()
	select {
	case err := <-c.done:
		if err != nil {
			return fmt.Errorf("exporter process: %w; stderr: %s", err, strings.TrimSpace(c.stderr.String()))
		}
		return nil
	case <-time.After(timeout):
		c.kill()
		return fmt.Errorf("exporter process did not exit within %s", timeout)
	}
}

// kill ends this child only (by its own pid); harmless once it exited.
func (c *child) kill() {
	if c.cmd.Process != nil && c.cmd.ProcessState == nil {
		_ = c.cmd.Process.Kill()
	}
}

// waitReady polls /-/ready until 200, bounded in count and time.
func waitReady(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for attempt := 0; attempt < 10000 && time.Now().Before(deadline); attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("%s not ready within %s", url, timeout)
}

// scrapeResult collects one scrape phase.
type scrapeResult struct {
	latencies []time.Duration // successful scrapes only
	errors    int
	wireBytes int // gzip body of the last successful scrape, as sent
	bytes     int // the same body decompressed
	wall      time.Duration
}

// scrape runs scrapers concurrent clients against url, each for at most
// perScraper requests, all stopping at the time bound. Like Prometheus they
// keep connections alive and ask for gzip; unlike Go's default client they
// do not inflate the body while timing, because that is the scraper's CPU,
// not the exporter's latency, and here it would compete with the exporter
// for the same two cores. Each client warms its connection first.
// scrapeAccept is the Accept header of the harness's scrapers: Prometheus
// 2's without OpenMetrics.
const scrapeAccept = "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

func scrape(ctx context.Context, url string, scrapers, perScraper int, bound time.Duration) (scrapeResult, error) {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	// Read buffers as large as a body, so that a scrape is a read or two
	// rather than one per 4 KiB.
	transport := &http.Transport{MaxIdleConnsPerHost: scrapers, MaxConnsPerHost: scrapers, ReadBufferSize: 64 << 10}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	// Like Prometheus, each scraper reads into a buffer of its own that it
	// keeps, so the harness does not allocate a body per scrape.
	get := func(buf *bytes.Buffer) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", scrapeAccept)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		buf.Reset()
		if _, err := buf.ReadFrom(resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return nil
	}
	var res scrapeResult
	var last []byte
	var mu sync.Mutex
	var warm, run sync.WaitGroup
	begin := make(chan struct{})
	for range scrapers {
		warm.Add(1)
		run.Go(func() {
			var buf bytes.Buffer
			_ = get(&buf)
			warm.Done()
			<-begin
			own := make([]time.Duration, 0, perScraper)
			errs := 0
			lastOK := false
			for range perScraper {
				if ctx.Err() != nil {
					break
				}
				t := time.Now()
				if err := get(&buf); err != nil {
					if ctx.Err() == nil {
						errs++
					}
					lastOK = false
					continue
				}
				own = append(own, time.Since(t))
				lastOK = true
			}
			var body []byte
			if lastOK {
				body = bytes.Clone(buf.Bytes())
			}
			mu.Lock()
			res.latencies = append(res.latencies, own...)
			res.errors += errs
			if body != nil {
				last = body
			}
			mu.Unlock()
		})
	}
	warm.Wait()
	// The scrapers' own garbage collection would show up as exporter
	// latency: the harness collects before the phase and not during it
	// (5000 scrapes allocate some tens of megabytes).
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	started := time.Now()
	close(begin)
	run.Wait()
	res.wall = time.Since(started)
	if len(res.latencies) == 0 {
		return res, fmt.Errorf("no successful scrape of %s (%d errors)", url, res.errors)
	}
	res.wireBytes = len(last)
	plain, err := gunzip(last)
	if err != nil {
		return res, fmt.Errorf("/metrics body: %w", err)
	}
	res.bytes = len(plain)
	return res, nil
}

// gunzip inflates a body sent with Content-Encoding gzip; a body the server
// chose not to compress is returned as it is.
func gunzip(body []byte) ([]byte, error) {
	if len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(zr, 256<<20))
}

// load1 is the one-minute load average, 0 if unknown.
func load1() float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(raw))
	if len(fields) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(fields[0], 64)
	return v
}
