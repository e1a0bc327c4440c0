package rt_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
	"github.com/servicedesk-exporter/servicedesk_exporter/internal/rtserver"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/rt"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// countingTransport authenticates as the API user and records every
// request path, so the test sees exactly what the source asks for.
type countingTransport struct {
	token string
	mu    sync.Mutex
	paths []string
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "token "+c.token)
	c.mu.Lock()
	c.paths = append(c.paths, req.URL.Path)
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (c *countingTransport) byRoute() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for _, p := range c.paths {
		route, _, _ := strings.Cut(strings.TrimPrefix(p, "/REST/2.0/"), "/")
		out[route]++
	}
	return out
}

// rtSourceConfig is the test configuration's source, loaded.
func (d *desk) rtSourceConfig(t *testing.T) config.Source {
	t.Helper()
	cfg, _ := d.loadConfig(t, t.TempDir(), time.Minute)
	return cfg.Sources[0]
}

func (d *desk) newSource(t *testing.T, sc config.Source, transport http.RoundTripper) *rt.Source {
	t.Helper()
	src, err := rt.New(sc.Name, sc.Settings.(rt.Config), sc.HTTPClient, sc.Segments, source.Env{},
		api.WithHTTPClient(&http.Client{Transport: transport, Timeout: 30 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// testFacts polls the source directly and compares each ticket's labels
// and segments with what RT says, and every request with the bulk routes.
func (d *desk) testFacts(t *testing.T) {
	sc := d.rtSourceConfig(t)
	transport := &countingTransport{token: d.srv.API.Token}
	src := d.newSource(t, sc, transport)
	delivered := map[string]ticket.Ticket{}
	err := src.Poll(context.Background(), d.oracle.horizon, nil, func(_ context.Context, b ticket.Batch) error {
		if b.Skipped > 0 {
			t.Errorf("%d tickets skipped", b.Skipped)
		}
		for _, tk := range b.Tickets {
			delivered[tk.ID] = tk
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	view := readRT(t, d.srv, d.oracle)
	inScope := 0
	for id, tk := range view.tickets {
		if !view.inScope(tk, d.oracle.horizon) {
			continue
		}
		inScope++
		got, ok := delivered[strconv.Itoa(id)]
		if !ok {
			t.Errorf("ticket %d is in scope but was not delivered", id)
			continue
		}
		l := view.labels(d.oracle, tk)
		requestors := slices.Sorted(slices.Values(tk.requestors))
		wantGroup, wantReporter := "", ""
		for _, r := range requestors {
			if org := view.users[r].organization; org != "" && wantGroup == "" {
				wantGroup = org
			}
		}
		if len(requestors) > 0 {
			wantReporter = requestors[0]
		}
		want := ticket.Ticket{ID: got.ID, Desk: l.desk, RequestType: l.requestType, Priority: l.priority,
			CustomerGroup: wantGroup, Team: tk.queue, Assigned: tk.owner != "Nobody", Status: tk.status, Reporter: wantReporter}
		gotLabels := ticket.Ticket{ID: got.ID, Desk: got.Desk, RequestType: got.RequestType, Priority: got.Priority,
			CustomerGroup: got.CustomerGroup, Team: got.Team, Assigned: got.Assigned, Status: got.Status, Reporter: got.Reporter}
		if gotLabels.Desk != want.Desk || gotLabels.RequestType != want.RequestType || gotLabels.Priority != want.Priority ||
			gotLabels.CustomerGroup != want.CustomerGroup || gotLabels.Team != want.Team || gotLabels.Assigned != want.Assigned ||
			gotLabels.Status != want.Status || gotLabels.Reporter != want.Reporter {
			t.Errorf("ticket %d: got %+v\nwant %+v", id, gotLabels, want)
		}
		if !got.Created.Equal(tk.created) || !got.Updated.Equal(tk.lastUpdated) {
			t.Errorf("ticket %d: created %s updated %s, RT says %s and %s", id, got.Created, got.Updated, tk.created, tk.lastUpdated)
		}
	}
	if len(delivered) != inScope {
		t.Errorf("%d tickets delivered, %d in scope", len(delivered), inScope)
	}
	groups, assigned := map[string]bool{}, 0
	for _, tk := range delivered {
		groups[tk.CustomerGroup] = true
		if tk.Assigned {
			assigned++
		}
	}
	if len(groups) < 3 || assigned == 0 || assigned == len(delivered) {
		t.Errorf("customer groups %v, %d of %d assigned: the test's organizations and owners did not come through", groups, assigned, len(delivered))
	}
	budget := view.fullSyncBudget(d.oracle)
	routes := transport.byRoute()
	want := map[string]int{"customfields": 1, "tickets": budget.tickets + 2, "transactions": budget.transactions, "user": budget.users}
	if !mapsEqual(routes, want) {
		t.Errorf("requests by route %s, want %s: only bulk routes, and one look-up per person", formatRequests(routes), formatRequests(want))
	}
}

// testCheck runs the check with the test configuration, then with one
// thing wrong at a time, each failing with a message that says what to fix.
func (d *desk) testCheck(t *testing.T) {
	sc := d.rtSourceConfig(t)
	base := sc.Settings.(rt.Config)
	run := func(t *testing.T, cfg rt.Config, httpCfg promconfig.HTTPClientConfig) (string, error) {
		t.Helper()
		src, err := rt.New(sc.Name, cfg, httpCfg, sc.Segments, source.Env{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var out strings.Builder
		err = src.Check(ctx, &out)
		return out.String(), err
	}
	t.Run("ok", func(t *testing.T) {
		out, err := run(t, base, sc.HTTPClient)
		if err != nil {
			t.Fatalf("check failed: %v\n%s", err, out)
		}
		for _, want := range []string{
			"  url:             " + d.srv.URL + "\n",
			"  version:         5.0.3",
			"  user:            " + rtserver.APIUserName + " (privileged)\n",
			"IT (default)", "Facilities (facilities)",
			"  satisfaction:    custom field \"Satisfaction\" (id " + strconv.Itoa(d.srv.SatisfactionFieldID) + ")\n",
			"  custom field:    \"Category\" (id ",
			"  time zone:       UTC (checked)\n",
			", none hidden\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("check output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "warning") {
			t.Errorf("check warned:\n%s", out)
		}
	})
	t.Run("basic auth as a superuser", func(t *testing.T) {
		out, err := run(t, base, promconfig.HTTPClientConfig{BasicAuth: &promconfig.BasicAuth{
			Username: d.srv.RootBasic.User, Password: promconfig.Secret(d.srv.RootBasic.Password)}})
		if err != nil || !strings.Contains(out, "  user:            root (privileged, superuser: more than it needs)\n") {
			t.Errorf("check: %v\n%s", err, out)
		}
	})
	token := func(s string) promconfig.HTTPClientConfig {
		return promconfig.HTTPClientConfig{Authorization: &promconfig.Authorization{Type: "token", Credentials: promconfig.Secret(s)}}
	}
	customer := d.sc.Customers[0]
	cases := []struct {
		name    string
		mutate  func(*rt.Config)
		httpCfg promconfig.HTTPClientConfig
		want    string
	}{
		{"bad token", nil, token("1-29-00000000000000000000000000000000"), "authentication failed"},
		{"not privileged", nil, promconfig.HTTPClientConfig{BasicAuth: &promconfig.BasicAuth{Username: customer.Name, Password: promconfig.Secret(customer.Password)}},
			"is not privileged"},
		{"unknown queue", func(c *rt.Config) { c.Queues = append(c.Queues, "Nowhere") }, sc.HTTPClient, `queue "Nowhere" is not among the queues`},
		{"bad TicketSQL", func(c *rt.Config) { c.Queues, c.Query = nil, "Bogus = 1" }, sc.HTTPClient, "RT rejected the TicketSQL: check rt.query"},
		{"wrong time zone", func(c *rt.Config) { c.TimeZone = "America/New_York" }, sc.HTTPClient, "RT reads TicketSQL dates in a time zone other than rt.time_zone"},
		{"wrong path", func(c *rt.Config) { c.URL += "/helpdesk" }, sc.HTTPClient, "check that rt.url is RT's web base URL"},
		{"nothing listening", func(c *rt.Config) { c.URL = "http://" + exportertest.FreeAddr(t) }, sc.HTTPClient, "hint: check that rt.url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			cfg.Queues = slices.Clone(base.Queues)
			cfg.MaxRetries = 0
			if c.mutate != nil {
				c.mutate(&cfg)
			}
			out, err := run(t, cfg, c.httpCfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("check error %v, want one saying %q; output:\n%s", err, c.want, out)
			}
		})
	}
}

// testBinary runs the real exporter binary on the same RT, waits for its
// initial sync and compares its /metrics with the oracle, and runs its
// check command.
func (d *desk) testBinary(t *testing.T) {
	dir := t.TempDir()
	_, configPath := d.loadConfig(t, dir, 2*time.Second)
	code, out := exportertest.Run(t, dir, time.Minute, "check", "--config.file="+configPath)
	if code != 0 || !strings.Contains(out, "source "+sourceName+" (rt)\n") || !strings.Contains(out, "  OK\n") {
		t.Errorf("check exited %d:\n%s", code, out)
	}

	p := exportertest.Start(t, dir, "--config.file="+configPath, "--log.level=debug")
	url := "http://" + p.Addr + "/metrics"
	deadline := time.Now().Add(45 * time.Second)
	var got expected
	for {
		if !p.Running() {
			t.Fatalf("exporter exited:\n%s", p.Stderr.String())
		}
		got, _ = scrape(url)
		if got != nil && got["servicedesk_initial_sync_progress_ratio"][`{source="`+sourceName+`"}`] == 1 &&
			got["servicedesk_up"][`{source="`+sourceName+`"}`] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished initial sync on %s within 45s:\n%s", url, p.Stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	view := readRT(t, d.srv, d.oracle)
	ratings := countedRatings{}
	ratings.see(view, d.oracle)
	got, err := scrape(url)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	compare(t, "binary", got, view.expect(d.oracle, ratings, now), clockFamilies)
}
