package jira

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
)

// wireLog is the client's view of the wire: when each request left and
// each answer came back, and how many were in flight at most.
type wireLog struct {
	mu       sync.Mutex
	inner    http.RoundTripper
	auth     func(*http.Request)
	inFlight map[string]int // by path
	most     map[string]int
	sent     []wireEvent
	answers  []wireEvent
	// before, if set, runs as each request leaves (with its index).
	before func(i int, r *http.Request)
}

type wireEvent struct {
	at         time.Time
	path       string
	query      string
	status     int
	retryAfter time.Duration
}

func newWireLog(auth func(*http.Request)) *wireLog {
	return &wireLog{inner: http.DefaultTransport, auth: auth, inFlight: map[string]int{}, most: map[string]int{}}
}

func (l *wireLog) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	l.auth(r)
	l.mu.Lock()
	l.inFlight[r.URL.Path]++
	l.most[r.URL.Path] = max(l.most[r.URL.Path], l.inFlight[r.URL.Path])
	l.sent = append(l.sent, wireEvent{at: time.Now(), path: r.URL.Path, query: r.URL.RawQuery})
	i, before := len(l.sent)-1, l.before
	l.mu.Unlock()
	if before != nil {
		before(i, r)
	}
	resp, err := l.inner.RoundTrip(r)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight[r.URL.Path]--
	if err == nil {
		e := wireEvent{at: time.Now(), path: r.URL.Path, status: resp.StatusCode}
		if secs, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil {
			e.retryAfter = time.Duration(secs) * time.Second
		}
		l.answers = append(l.answers, e)
	}
	return resp, err
}

// sourceOver builds a source for e whose requests go through l.
func (e *siteEnv) sourceOver(t *testing.T, l *wireLog) *Source {
	t.Helper()
	src, err := New(fakejira.DefaultSource, e.cfg, e.httpCfg, source.Env{API: e.metrics, Now: e.clock.Now}, WithHTTPClient(&http.Client{Transport: l}))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func basicAuth(r *http.Request)  { r.SetBasicAuth(fakejira.DefaultEmail, fakejira.DefaultAPIToken) }
func bearerAuth(r *http.Request) { r.Header.Set("Authorization", "Bearer "+fakejira.DefaultPAT) }

// idBounds reads the "id > a AND id <= b" of a search's JQL (b 0: none).
var idBoundsRE = struct{ after, through *regexp.Regexp }{regexp.MustCompile(`id > (\d+)`), regexp.MustCompile(`id <= (\d+)`)}

func idBounds(rawQuery string) (after, through int64) {
	q, _ := url.ParseQuery(rawQuery)
	jql := q.Get("jql")
	if m := idBoundsRE.after.FindStringSubmatch(jql); m != nil {
		after, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := idBoundsRE.through.FindStringSubmatch(jql); m != nil {
		through, _ = strconv.ParseInt(m[1], 10, 64)
	}
	return after, through
}

func TestCloudInitialSyncPagesRangesConcurrently(t *testing.T) {
	start := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	site := newSite(t, fakejira.Options{Deployment: fakejira.DeploymentCloud, Seed: 61, Now: func() time.Time { return start }}, 3500, nil)
	store := newLedgerStore(start.Add(-200 * 24 * time.Hour)) // every generated ticket is in scope
	wire := newWireLog(basicAuth)
	src := site.sourceOver(t, wire)
	pollOnce(t, src, store)
	compareObserved(t, store.observed(site.clock.Now()), truthObserved(site.srv.Truth(store.horizon, fakejira.SLATimeToFirstResponse)))

	n := len(store.tickets)
	if n != 3500 {
		t.Fatalf("synced %d tickets, want all 3500", n)
	}
	counts := site.srv.Counts()
	// The minimum, plus one id-only page per 5000 tickets for the ranges.
	if got, want := counts["search_jql"], ceilDiv(n, 100)+ceilDiv(n, 5000); got != want {
		t.Errorf("%d search pages, want %d (ceil(N/100) + ceil(N/5000))", got, want)
	}
	if got, want := counts["changelog_bulkfetch"], ceilDiv(n, 1000); got != want {
		t.Errorf("%d bulkfetches, want %d", got, want)
	}
	if extra := site.srv.Total() - counts["search_jql"] - counts["changelog_bulkfetch"] - 5; extra != 0 {
		t.Errorf("%d requests beyond searches, bulkfetches and discovery: %v", extra, counts)
	}
	if store.delivered != n {
		t.Errorf("%d tickets delivered for %d distinct: ranges overlap", store.delivered, n)
	}
	if most := wire.most["/rest/api/2/search/jql"]; most < 2 || most > site.cfg.Concurrency+1 {
		t.Errorf("at most %d searches in flight, want 2..%d (the ranges plus the id walk)", most, site.cfg.Concurrency+1)
	}
	if most := wire.most["/rest/api/2/search/jql"] + wire.most["/rest/api/2/changelog/bulkfetch"]; most > 2*site.cfg.Concurrency+1 {
		t.Errorf("%d requests in flight at once, more than the %d streams and their bulkfetches", most, site.cfg.Concurrency)
	}

	site.srv.ResetCounts()
	site.clock.Advance(2 * time.Minute)
	pollOnce(t, src, store)
	if site.srv.Total() != 1 {
		t.Errorf("idle poll after a concurrent sync sent %v, want one search", site.srv.Counts())
	}
}

func TestConcurrentSyncHoldsEveryStreamDuringRetryAfter(t *testing.T) {
	start := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	site := newSite(t, fakejira.Options{Deployment: fakejira.DeploymentCloud, Seed: 62, Now: func() time.Time { return start }}, 3000, nil)
	site.srv.SetLatency(5 * time.Millisecond)
	store := newLedgerStore(start.Add(-200 * 24 * time.Hour))
	wire := newWireLog(basicAuth)
	var once sync.Once
	wire.before = func(i int, r *http.Request) {
		if i == 12 { // the ranges are under way
			once.Do(func() {
				site.srv.FailNext(1, fakejira.Fault{Kind: fakejira.FaultStatus, Status: 429, RetryAfter: time.Second})
			})
		}
	}
	pollOnce(t, site.sourceOver(t, wire), store)
	compareObserved(t, store.observed(site.clock.Now()), truthObserved(site.srv.Truth(store.horizon, fakejira.SLATimeToFirstResponse)))

	wire.mu.Lock()
	defer wire.mu.Unlock()
	var penalty *wireEvent
	for i := range wire.answers {
		if wire.answers[i].status == http.StatusTooManyRequests {
			penalty = &wire.answers[i]
			break
		}
	}
	if penalty == nil || penalty.retryAfter != time.Second {
		t.Fatalf("no 429 with Retry-After 1s came back: %+v", penalty)
	}
	// Requests already on the wire when the 429 came back cannot be
	// helped; none may leave after it until the penalty is over. A request
	// that passed the gate an instant before the answer arrived is the
	// only tolerance.
	const slack = 5 * time.Millisecond
	for _, s := range wire.sent {
		if s.at.After(penalty.at.Add(slack)) && s.at.Before(penalty.at.Add(penalty.retryAfter)) {
			t.Errorf("%s sent %v after the 429, inside its 1s Retry-After", s.path, s.at.Sub(penalty.at).Round(time.Millisecond))
		}
	}
	if got := rateLimitedCount(t, site.reg, fakejira.DefaultSource); got < 1 {
		t.Errorf("rate limited counter %v", got)
	}
}

func TestCloudCrashMidRangedSyncResumesWithoutRefetching(t *testing.T) {
	start := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	site := newSite(t, fakejira.Options{Deployment: fakejira.DeploymentCloud, Seed: 63, Now: func() time.Time { return start }}, 4200, nil)
	store := newLedgerStore(start.Add(-200 * 24 * time.Hour))
	store.crashAt = 3
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := site.source(t, nil).Poll(ctx, store.horizon, store.cursor, store.emit)
	if !errors.Is(err, errCrash) {
		t.Fatalf("poll error = %v, want the simulated crash", err)
	}
	state, err := api.DecodeCursor(store.cursor)
	if err != nil || !state.Initial() || !state.Active || !state.Ranged || store.batches != 2 {
		t.Fatalf("committed cursor %+v after %d batches (%v): not a ranged sync with two ranges done", state, store.batches, err)
	}
	committed := func(id int64) bool {
		if id <= state.AfterID {
			return true
		}
		for _, r := range state.DoneRanges {
			if id > r.After && id <= r.Through {
				return true
			}
		}
		return false
	}
	ids := make([]int64, 0, site.srv.Len())
	for _, is := range site.srv.Issues() {
		ids = append(ids, is.ID)
	}

	store.crashAt = 0
	site.srv.ResetCounts()
	deliveredBefore := store.delivered
	pollOnce(t, site.source(t, nil), store)
	for _, r := range site.srv.Requests() {
		if r.Endpoint != "search_jql" {
			continue
		}
		if q, _ := url.ParseQuery(r.Query); q.Get("fields") == "id" {
			continue // the id walk lists ids, it fetches no ticket
		}
		after, through := idBounds(r.Query)
		if through == 0 {
			through = math.MaxInt64
		}
		for _, id := range ids {
			if id > after && id <= through && committed(id) {
				t.Errorf("after the restart a search asked for committed ticket %d: %s", id, r.Query)
				break
			}
		}
	}
	if store.delivered != len(store.tickets) {
		t.Errorf("%d tickets delivered (%d before the crash) for %d distinct: committed ranges were read again",
			store.delivered, deliveredBefore, len(store.tickets))
	}
	compareObserved(t, store.observed(site.clock.Now()), truthObserved(site.srv.Truth(store.horizon, fakejira.SLATimeToFirstResponse)))
	if cur, _ := api.DecodeCursor(store.cursor); cur.Initial() || cur.Ranged || cur.DoneRanges != nil {
		t.Errorf("cursor after the resumed sync %+v", cur)
	}
}

func TestDataCenterPagesTheWindowConcurrently(t *testing.T) {
	start := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	site := newSite(t, fakejira.Options{Deployment: fakejira.DeploymentDataCenter, Seed: 64, SearchWindow: 500,
		Now: func() time.Time { return start }}, 1400, func(c *Config) {
		c.PageSize = 50
		c.MaxResultWindow = 500
	})
	site.srv.SetLatency(2 * time.Millisecond)
	store := newLedgerStore(start.Add(-200 * 24 * time.Hour))
	wire := newWireLog(bearerAuth)
	pollOnce(t, site.sourceOver(t, wire), store)
	compareObserved(t, store.observed(site.clock.Now()), truthObserved(site.srv.Truth(store.horizon, fakejira.SLATimeToFirstResponse)))
	n := len(store.tickets)
	if n != 1400 || store.delivered != n {
		t.Fatalf("%d deliveries of %d tickets, want each of 1400 once", store.delivered, n)
	}
	// Windows of 500 in pages of 50: the same pages a sequential walk asks
	// for, no more.
	if got, want := site.srv.Count("search"), ceilDiv(n, 50); got != want {
		t.Errorf("%d search pages for %d tickets, want %d", got, n, want)
	}
	for _, r := range site.srv.Requests() {
		if r.Status >= 400 {
			t.Errorf("request %s?%s answered %d", r.Path, r.Query, r.Status)
		}
	}
	if most := wire.most["/rest/api/2/search"]; most < 2 || most > site.cfg.Concurrency {
		t.Errorf("at most %d searches in flight, want 2..%d", most, site.cfg.Concurrency)
	}
	requeried := 0
	for _, s := range wire.sent {
		if after, _ := idBounds(s.query); after > 0 {
			q, _ := url.ParseQuery(s.query)
			if q.Get("startAt") == "0" {
				requeried++
			}
		}
	}
	if requeried != 2 {
		t.Errorf("%d windows started past the first, want 2 (1400 tickets in windows of 500)", requeried)
	}
}

func TestDataCenterResultChangingDuringTheWalkLosesNoTicket(t *testing.T) {
	start := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	site := newSite(t, fakejira.Options{Deployment: fakejira.DeploymentDataCenter, Seed: 65,
		Now: func() time.Time { return start }}, 900, func(c *Config) { c.PageSize = 50 })
	horizon := start.Add(-200 * 24 * time.Hour) // all 900 in scope
	store := newLedgerStore(horizon)
	site.srv.CreateIssue(fakejira.NewIssue{Project: "OPS", RequestType: "Get IT help", Priority: "Medium"})
	// Tickets early in the id order move to a project outside the JQL
	// while the walk runs: every startAt after them moves back by one.
	var leaving []string
	for _, is := range site.srv.Issues()[:40] {
		if is.Project != "OPS" && len(leaving) < 4 {
			leaving = append(leaving, is.Key)
		}
	}
	wire := newWireLog(bearerAuth)
	var mu sync.Mutex
	wire.before = func(i int, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/rest/api/2/search" && len(leaving) > 0 && i >= 6 && i%3 == 0 {
			if err := site.srv.Mutate(leaving[0], func(is *fakejira.Issue) { is.Project = "OPS" }); err != nil {
				t.Error(err)
			}
			leaving = leaving[1:]
		}
	}
	var logs strings.Builder
	src := site.sourceOver(t, wire)
	src.logger = slogTo(&logs)
	pollOnce(t, src, store)
	if len(leaving) > 0 {
		t.Fatalf("the walk ended before %d tickets left the scope", len(leaving))
	}
	for _, is := range site.srv.Issues() {
		if _, ok := store.tickets[strconv.FormatInt(is.ID, 10)]; !ok && is.Project != "OPS" {
			t.Errorf("ticket %s, in scope all along, was skipped when the result changed", is.Key)
		}
	}
	if !strings.Contains(logs.String(), "search result changed during the sync") {
		t.Errorf("the changed result was not noticed:\n%s", logs.String())
	}
}

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
