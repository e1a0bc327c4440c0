package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/exposition"
	"github.com/servicedesk-exporter/servicedesk_exporter/pipeline"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
)

// childEnv names the environment variable that turns the process into the
// exporter side of a run; its value is the config file to load. An
// environment variable rather than a flag lets the smoke test re-execute its
// own test binary, whose flag set belongs to package testing.
const childEnv = "SERVICEDESK_BENCH_CHILD"

// Commands the parent writes to the child's stdin, one per line.
const (
	cmdPoll        = "poll"       // run one poll and report
	cmdStats       = "stats"      // report process figures only
	cmdCPUProfile  = "cpuprofile" // cpuprofile <path>: profile until cpuprofile-stop
	cmdCPUStop     = "cpuprofile-stop"
	cmdHeapProfile = "heapprofile" // heapprofile <path>
	cmdFloor       = "floor"       // serve the current /metrics bytes from a bare handler; Addr says where
	cmdQuit        = "quit"        // close the store and exit
)

// childReport is the child's answer to its start and to every command.
type childReport struct {
	Addr string `json:"addr,omitempty"` // the /metrics listener, on the start report; the floor's on floor
	// OpenSeconds is pipeline.New: bbolt open plus rebuilding aggregates
	// and the open-ticket index from every record.
	OpenSeconds float64 `json:"open_seconds,omitempty"`
	// ReadySeconds runs from just before pipeline.New to the source being
	// ready (a restart with a completed poll is ready at once); -1 if not.
	ReadySeconds float64 `json:"ready_seconds"`
	Ready        bool    `json:"ready"`

	PollSeconds float64 `json:"poll_seconds,omitempty"`
	Err         string  `json:"err,omitempty"`
	// CPUSeconds is user+system CPU of this process during the command.
	CPUSeconds float64 `json:"cpu_seconds"`
	// PeakRSSKiB is the peak resident set of the process so far (VmHWM),
	// RSSKiB the current one (VmRSS), both from /proc/self/status.
	PeakRSSKiB int64  `json:"vm_hwm_kib"`
	RSSKiB     int64  `json:"vm_rss_kib"`
	HeapInuse  uint64 `json:"heap_inuse"`
	Tracked    int    `json:"tracked"`
}

// childMain is the exporter side: the daemon's pipeline (store, Jira
// source, poller, collector, with the Go and process collectors behind the
// binary's /metrics handler) in its own process, so its CPU and RSS exclude the fake Jira
// and the scrapers. It polls only when told, which lets the parent count the
// requests of each poll exactly.
func childMain(configPath string) error {
	cfg, err := config.Load(configPath, builtin.Registry())
	if err != nil {
		return err
	}
	sc := cfg.Sources[0]
	cpuBefore := cpuSeconds()

	openStart := time.Now()
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// The daemon's own wiring, polled only when the parent says so.
	p, err := pipeline.New(context.Background(), cfg, pipeline.Options{Types: builtin.Registry(), Registerer: reg, Manual: true})
	if err != nil {
		return err
	}
	openSeconds := time.Since(openStart).Seconds()
	ready := -1.0
	if ok, _ := p.Ready(); ok {
		ready = time.Since(openStart).Seconds()
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	maxInFlight, _ := strconv.Atoi(os.Getenv(childMaxRequestsEnv))
	mux := http.NewServeMux()
	// The binary's own /metrics handler and server, so the figures are the
	// binary's.
	metrics := exposition.NewHandler(reg, p.DataVersion, maxInFlight, slog.New(slog.DiscardHandler))
	mux.Handle("/metrics", metrics)
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if ok, _ := p.Ready(); !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "Ready\n")
	})
	httpSrv := exposition.NewServer(mux)
	go func() { _ = httpSrv.Serve(ln) }()
	defer httpSrv.Close()

	out := json.NewEncoder(os.Stdout)
	hello := processReport(p, sc.Name, cpuSeconds()-cpuBefore)
	hello.Addr, hello.OpenSeconds, hello.ReadySeconds, hello.Ready = ln.Addr().String(), openSeconds, ready, ready >= 0
	if err := out.Encode(hello); err != nil {
		return err
	}

	var profile *os.File
	var floor *floorServer
	defer func() { floor.Close() }()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fields := strings.Fields(in.Text())
		if len(fields) == 0 {
			continue
		}
		before := cpuSeconds()
		var rep childReport
		switch fields[0] {
		case cmdPoll:
			pollStart := time.Now()
			err := p.PollOnce(context.Background(), sc.Name)
			rep = processReport(p, sc.Name, 0)
			rep.PollSeconds = time.Since(pollStart).Seconds()
			if err != nil {
				rep.Err = err.Error()
			}
		case cmdStats:
			rep = processReport(p, sc.Name, 0)
		case cmdCPUProfile:
			if profile, err = os.Create(fields[1]); err == nil {
				err = pprof.StartCPUProfile(profile)
			}
			rep = processReport(p, sc.Name, 0)
			if err != nil {
				rep.Err = err.Error()
			}
		case cmdCPUStop:
			pprof.StopCPUProfile()
			if profile != nil {
				_ = profile.Close()
			}
			rep = processReport(p, sc.Name, 0)
		case cmdHeapProfile:
			rep = processReport(p, sc.Name, 0)
			if err := writeHeapProfile(fields[1]); err != nil {
				rep.Err = err.Error()
			}
		case cmdFloor:
			rep = processReport(p, sc.Name, 0)
			floor.Close()
			if floor, err = serveFloor(metrics); err != nil {
				rep.Err = err.Error()
			} else {
				rep.Addr = floor.Addr
			}
		case cmdQuit:
			rep = processReport(p, sc.Name, 0)
			if err := p.Close(); err != nil {
				rep.Err = err.Error()
			}
			rep.CPUSeconds = cpuSeconds() - before
			return out.Encode(rep)
		default:
			rep.Err = fmt.Sprintf("unknown command %q", fields[0])
		}
		rep.CPUSeconds = cpuSeconds() - before
		if err := out.Encode(rep); err != nil {
			return err
		}
	}
	_ = p.Close()
	return in.Err()
}

// floorServer serves one fixed response from a bare handler.
type floorServer struct {
	Addr string
	srv  *http.Server
}

// Close stops the server; a nil one is none.
func (f *floorServer) Close() {
	if f != nil {
		_ = f.srv.Close()
	}
}

// serveFloor answers /metrics with the bytes, headers and server the
// exporter's handler answers the scrapers with at this moment, from a
// handler that does nothing but write them: what net/http, loopback and
// the machine cost a scrape whatever the exporter does. The exporter's
// latency over this floor is what its handler adds.
func serveFloor(metrics http.Handler) (*floorServer, error) {
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", scrapeAccept)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	metrics.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("floor: /metrics answered %d", rec.Code)
	}
	header, body := rec.Header().Clone(), rec.Body.Bytes()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		maps.Copy(w.Header(), header)
		_, _ = w.Write(body)
	})
	srv := exposition.NewServer(mux)
	go func() { _ = srv.Serve(ln) }()
	return &floorServer{Addr: ln.Addr().String(), srv: srv}, nil
}

// childMaxRequestsEnv carries the /metrics in-flight limit (the daemon's
// --web.max-requests) to the child.
const childMaxRequestsEnv = "SERVICEDESK_BENCH_MAX_REQUESTS"

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func processReport(p *pipeline.Pipeline, source string, cpu float64) childReport {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	hwm, rss := procStatus()
	return childReport{
		ReadySeconds: -1, CPUSeconds: cpu,
		PeakRSSKiB: hwm, RSSKiB: rss, HeapInuse: ms.HeapInuse,
		Tracked: p.Snapshot().Tracked[source],
	}
}

// cpuSeconds is this process's user+system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// procStatus reads VmHWM (peak RSS) and VmRSS in KiB from /proc/self/status.
func procStatus() (hwm, rss int64) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		switch name {
		case "VmHWM":
			hwm = kib
		case "VmRSS":
			rss = kib
		}
	}
	return hwm, rss
}
