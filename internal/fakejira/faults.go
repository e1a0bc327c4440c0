package fakejira

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// FaultKind is how an injected fault breaks a response.
type FaultKind int

// Fault kinds.
const (
	// FaultStatus answers with Fault.Status (default 503); 429 carries
	// Retry-After and the deployment's rate-limit headers (Cloud
	// X-RateLimit-Limit/Remaining/Reset and RateLimit-Reason; Data Center
	// X-RateLimit-Limit/Remaining/Interval-Seconds/FillRate), a 503 with
	// RetryAfter carries Retry-After.
	FaultStatus FaultKind = iota
	// FaultDrop hijacks the connection and closes it without a response.
	FaultDrop
	// FaultTruncate sends the real response cut in half (broken JSON).
	FaultTruncate
	// FaultHTML answers 200 with an HTML error page, as proxies and
	// maintenance pages do.
	FaultHTML
)

// Fault describes one injected failure.
type Fault struct {
	Kind     FaultKind
	Endpoint string // endpoint name (see Count); empty matches every request
	Status   int    // FaultStatus only; default 503
	// RetryAfter is sent as Retry-After in whole seconds (rounded up). For
	// 429 it defaults to 1s and opens a penalty: requests arriving before it
	// ends get 429 again and are recorded as penalty violations.
	RetryAfter time.Duration
	Reason     string // RateLimit-Reason, default jira-burst-based
}

// Request is one request as the fake saw it.
type Request struct {
	At            time.Time // real arrival time
	Method        string
	Path          string
	Query         string
	Endpoint      string
	Status        int  // 0 for a dropped connection
	DuringPenalty bool // arrived while a Retry-After penalty was running
}

type faultRule struct {
	fault     Fault
	remaining int       // requests left; -1 when bounded by until instead
	until     time.Time // real time
}

type accounting struct {
	mu           sync.Mutex
	counts       map[string]int
	total        int
	requests     []Request
	faults       []*faultRule
	latency      time.Duration
	penaltyUntil time.Time
	penaltyReply Fault
	dataCenter   bool // rate-limit headers differ
}

// FailNext makes the next n requests matching f.Endpoint fail with f.
func (s *Server) FailNext(n int, f Fault) {
	s.acct.mu.Lock()
	defer s.acct.mu.Unlock()
	s.acct.faults = append(s.acct.faults, &faultRule{fault: f, remaining: n})
}

// FailFor makes every request matching f.Endpoint fail with f for d of
// real time from now.
func (s *Server) FailFor(d time.Duration, f Fault) {
	s.acct.mu.Lock()
	defer s.acct.mu.Unlock()
	s.acct.faults = append(s.acct.faults, &faultRule{fault: f, remaining: -1, until: time.Now().Add(d)})
}

// ClearFaults drops pending faults, latency and any running penalty.
func (s *Server) ClearFaults() {
	s.acct.mu.Lock()
	defer s.acct.mu.Unlock()
	s.acct.faults = nil
	s.acct.latency = 0
	s.acct.penaltyUntil = time.Time{}
}

// SetLatency delays every response by d.
func (s *Server) SetLatency(d time.Duration) {
	s.acct.mu.Lock()
	defer s.acct.mu.Unlock()
	s.acct.latency = d
}

// Count is the number of requests to one endpoint since the last
// ResetCounts. Names: serverInfo, myself, field, status, statuscategory,
// search_jql, approximate_count, search (old search: 410 on Cloud),
// changelog_bulkfetch, issue, issue_changelog, comment, sd_feedback,
// sd_comment, sd_sla, unknown.
func (s *Server) Count(endpoint string) int {
	s.acct.mu.Lock()
	defer s.acct.mu.Unlock()
	return s.acct.counts[endpoint]
}

// Counts returns all per-endpoint counts.
func (s *Server) Counts() map[string]int {
	s.acct.mu.Lock()
	defer s.acct.mu.Unlock()
	out := make(map[string]int, len(s.acct.counts))
	for k, v := range s.acct.counts {
		out[k] = v
	}
	return out
}

// Total is the number of requests since the last ResetCounts.
func (s *Server) Total() int {
	s.acct.mu.Lock()
	defer s.acct.mu.Unlock()
	return s.acct.total
}

// Requests returns the request log since the last ResetCounts.
func (s *Server) Requests() []Request {
	s.acct.mu.Lock()
	defer s.acct.mu.Unlock()
	return append([]Request(nil), s.acct.requests...)
}

// PenaltyViolations returns the requests that arrived while a Retry-After
// penalty announced by a 429 was still running.
func (s *Server) PenaltyViolations() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.DuringPenalty {
			out = append(out, r)
		}
	}
	return out
}

// ResetCounts zeroes the counters and the request log.
func (s *Server) ResetCounts() {
	s.acct.mu.Lock()
	defer s.acct.mu.Unlock()
	s.acct.counts = map[string]int{}
	s.acct.total = 0
	s.acct.requests = nil
}

// admit logs the request and applies latency, penalties and faults. It
// reports whether the real handler should run, and whether its response
// must then be truncated.
func (a *accounting) admit(name string, r *http.Request, w *statusRecorder) (proceed, truncate bool) {
	now := time.Now()
	a.mu.Lock()
	a.counts[name]++
	a.total++
	a.requests = append(a.requests, Request{At: now, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Endpoint: name})
	w.index = len(a.requests) - 1
	latency := a.latency
	var fault *Fault
	if now.Before(a.penaltyUntil) {
		a.requests[w.index].DuringPenalty = true
		f := a.penaltyReply
		f.RetryAfter = a.penaltyUntil.Sub(now)
		fault = &f
	} else {
		fault = a.takeFault(name, now)
		if fault != nil && fault.Kind == FaultStatus && fault.Status == http.StatusTooManyRequests {
			if fault.RetryAfter <= 0 {
				fault.RetryAfter = time.Second
			}
			a.penaltyUntil = now.Add(time.Duration(ceilSeconds(fault.RetryAfter)) * time.Second)
			a.penaltyReply = *fault
		}
	}
	a.mu.Unlock()

	if latency > 0 {
		time.Sleep(latency)
	}
	if fault == nil {
		return true, false
	}
	switch fault.Kind {
	case FaultDrop:
		if hj, ok := w.ResponseWriter.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
		return false, false
	case FaultTruncate:
		return true, true
	case FaultHTML:
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>Atlassian Cloud Notifications - Page Unavailable</title></head><body><h1>Something went wrong</h1><p>This site is temporarily unavailable.</p></body></html>"))
		return false, false
	}
	writeFaultStatus(w, *fault, now, a.dataCenter)
	return false, false
}

func writeFaultStatus(w http.ResponseWriter, f Fault, now time.Time, dataCenter bool) {
	status := f.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	if f.RetryAfter > 0 && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		w.Header().Set("Retry-After", strconv.Itoa(ceilSeconds(f.RetryAfter)))
	}
	if status == http.StatusTooManyRequests && dataCenter {
		// Data Center's per-user token bucket.
		w.Header().Set("X-RateLimit-Limit", "20")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Interval-Seconds", "1")
		w.Header().Set("X-RateLimit-FillRate", "10")
		writeErrors(w, status, "Rate limit exceeded.")
		return
	}
	if status == http.StatusTooManyRequests {
		reason := f.Reason
		if reason == "" {
			reason = "jira-burst-based"
		}
		w.Header().Set("X-RateLimit-Limit", "100")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", now.Add(f.RetryAfter).UTC().Format("2006-01-02T15:04Z"))
		w.Header().Set("RateLimit-Reason", reason)
		writeErrors(w, status, "Rate limit exceeded.")
		return
	}
	writeErrors(w, status, fmt.Sprintf("Injected failure (%d).", status))
}

func (a *accounting) takeFault(name string, now time.Time) *Fault {
	for i, rule := range a.faults {
		if rule.fault.Endpoint != "" && rule.fault.Endpoint != name {
			continue
		}
		if rule.remaining < 0 && !now.Before(rule.until) {
			continue
		}
		f := rule.fault
		if rule.remaining > 0 {
			rule.remaining--
			if rule.remaining == 0 {
				a.faults = append(a.faults[:i], a.faults[i+1:]...)
			}
		}
		return &f
	}
	return nil
}

// finish stores the response status in the log.
func (a *accounting) finish(w *statusRecorder) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if w.index < len(a.requests) {
		a.requests[w.index].Status = w.status
	}
}

// truncatingWriter buffers a response and sends only its first half.
type truncatingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (t *truncatingWriter) WriteHeader(code int) { t.status = code }

func (t *truncatingWriter) Write(b []byte) (int, error) { return t.body.Write(b) }

func (t *truncatingWriter) flush() {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	t.ResponseWriter.WriteHeader(t.status)
	_, _ = t.ResponseWriter.Write(t.body.Bytes()[:t.body.Len()/2])
}
