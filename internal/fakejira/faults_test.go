package fakejira

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRateLimitPenaltyIsEnforcedAndRecorded(t *testing.T) {
	srv := newTestServer(t, Options{})
	srv.FailNext(1, Fault{Kind: FaultStatus, Status: http.StatusTooManyRequests, RetryAfter: time.Second, Endpoint: "field"})

	// A request to another endpoint is not limited by the field fault.
	if resp := call(t, srv, "GET", "/rest/api/2/status", nil); resp.status != http.StatusOK {
		t.Fatalf("status: got %d", resp.status)
	}
	limited := call(t, srv, "GET", "/rest/api/2/field", nil)
	if limited.status != http.StatusTooManyRequests {
		t.Fatalf("want 429, got %d", limited.status)
	}
	for header, want := range map[string]string{"Retry-After": "1", "RateLimit-Reason": "jira-burst-based", "X-RateLimit-Remaining": "0"} {
		if got := limited.header.Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
	if _, err := time.Parse("2006-01-02T15:04Z", limited.header.Get("X-RateLimit-Reset")); err != nil {
		t.Errorf("X-RateLimit-Reset: %v", err)
	}
	// Retrying at once is a violation and is refused again.
	if resp := call(t, srv, "GET", "/rest/api/2/status", nil); resp.status != http.StatusTooManyRequests {
		t.Errorf("during the penalty: got %d, want 429", resp.status)
	}
	if v := srv.PenaltyViolations(); len(v) != 1 || v[0].Endpoint != "status" {
		t.Errorf("violations: %+v", v)
	}
	time.Sleep(time.Second + 50*time.Millisecond)
	if resp := call(t, srv, "GET", "/rest/api/2/field", nil); resp.status != http.StatusOK {
		t.Errorf("after the penalty: got %d", resp.status)
	}
	if got := len(srv.PenaltyViolations()); got != 1 {
		t.Errorf("violations after waiting: %d, want 1", got)
	}
	if srv.Count("field") != 2 || srv.Count("status") != 2 || srv.Total() != 4 {
		t.Errorf("counts %v total %d", srv.Counts(), srv.Total())
	}
	srv.ResetCounts()
	if srv.Total() != 0 || len(srv.Requests()) != 0 {
		t.Error("ResetCounts left requests behind")
	}
}

func TestFaultKinds(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		fault Fault
		check func(t *testing.T, resp *http.Response, err error, body []byte)
	}{
		{"Data Center 429", Options{Deployment: DeploymentDataCenter}, Fault{Kind: FaultStatus, Status: 429, RetryAfter: 500 * time.Millisecond}, func(t *testing.T, resp *http.Response, err error, body []byte) {
			if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" || resp.Header.Get("X-RateLimit-FillRate") == "" || resp.Header.Get("RateLimit-Reason") != "" {
				t.Errorf("got %v %v", resp, err)
			}
			time.Sleep(time.Second) // let the penalty (rounded up to 1s) pass before the second request
		}},
		{"503 burst", Options{}, Fault{Kind: FaultStatus, Status: 503, RetryAfter: 2 * time.Second}, func(t *testing.T, resp *http.Response, err error, body []byte) {
			if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "2" {
				t.Errorf("got %v %v", resp, err)
			}
		}},
		{"500", Options{}, Fault{Kind: FaultStatus, Status: 500}, func(t *testing.T, resp *http.Response, err error, body []byte) {
			if err != nil || resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "errorMessages") {
				t.Errorf("got %v %v", resp, err)
			}
		}},
		{"dropped connection", Options{}, Fault{Kind: FaultDrop}, func(t *testing.T, resp *http.Response, err error, body []byte) {
			if err == nil {
				t.Errorf("want a transport error, got %d", resp.StatusCode)
			}
		}},
		{"truncated JSON", Options{}, Fault{Kind: FaultTruncate}, func(t *testing.T, resp *http.Response, err error, body []byte) {
			var v any
			if err != nil || resp.StatusCode != http.StatusOK || json.Unmarshal(body, &v) == nil || len(body) == 0 {
				t.Errorf("want 200 with broken JSON, got %v %q", err, body)
			}
		}},
		{"HTML with 200", Options{}, Fault{Kind: FaultHTML}, func(t *testing.T, resp *http.Response, err error, body []byte) {
			if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "<html>") {
				t.Errorf("got %v %q", err, body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, tt.opts)
			srv.FailNext(1, tt.fault)
			req := must(http.NewRequest(http.MethodGet, srv.URL+"/rest/api/2/statuscategory", nil))
			req.SetBasicAuth(DefaultEmail, DefaultAPIToken)
			resp, err := http.DefaultClient.Do(req)
			var body []byte
			if err == nil {
				body = readAll(t, resp)
			}
			tt.check(t, resp, err, body)
			// The fault was for one request only.
			if again := call(t, srv, "GET", "/rest/api/2/statuscategory", nil); again.status != 200 {
				t.Errorf("second request: %d", again.status)
			}
		})
	}
}

func TestFailForAndLatency(t *testing.T) {
	srv := newTestServer(t, Options{})
	srv.FailFor(400*time.Millisecond, Fault{Kind: FaultStatus, Status: 503, Endpoint: "myself"})
	if resp := call(t, srv, "GET", "/rest/api/2/myself", nil); resp.status != 503 {
		t.Fatalf("inside the window: %d", resp.status)
	}
	if resp := call(t, srv, "GET", "/rest/api/2/field", nil); resp.status != 200 {
		t.Fatalf("another endpoint inside the window: %d", resp.status)
	}
	time.Sleep(450 * time.Millisecond)
	if resp := call(t, srv, "GET", "/rest/api/2/myself", nil); resp.status != 200 {
		t.Errorf("after the window: %d", resp.status)
	}
	srv.SetLatency(80 * time.Millisecond)
	start := time.Now()
	call(t, srv, "GET", "/rest/api/2/myself", nil)
	if took := time.Since(start); took < 80*time.Millisecond {
		t.Errorf("latency not applied: %v", took)
	}
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
