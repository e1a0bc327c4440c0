package jira

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promconfig "github.com/prometheus/common/config"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/fakejira"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/api"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// ledgerStore does what the real store does with batches, in memory: keep
// the latest facts per ticket, count each derived event once, apply
// InScope, keep the cursor. It can simulate a crash before a commit.
type ledgerStore struct {
	mu        sync.Mutex
	horizon   time.Time
	tickets   map[string]ticket.Ticket
	counted   map[string]bool
	events    []countedEvent
	cursor    []byte
	batches   int
	crashAt   int // emit fails (nothing committed) on this batch number; 0 never
	delivered int
	invalid   []error
	progress  []ticket.Progress
	skipped   int // ticket.Batch.Skipped summed, as the poller counts it
}

type countedEvent struct {
	labels fakejira.Labels
	event  ticket.Event
}

var errCrash = errors.New("simulated crash before commit")

func newLedgerStore(horizon time.Time) *ledgerStore {
	return &ledgerStore{horizon: horizon, tickets: map[string]ticket.Ticket{}, counted: map[string]bool{}}
}

func labelsOf(t ticket.Ticket) fakejira.Labels {
	return fakejira.Labels{Source: fakejira.DefaultSource, Desk: t.Desk, RequestType: t.RequestType, Priority: t.Priority}
}

func (s *ledgerStore) emit(_ context.Context, b ticket.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.crashAt > 0 && s.batches+1 == s.crashAt {
		return errCrash
	}
	s.batches++
	s.skipped += b.Skipped
	if b.Progress != nil {
		s.progress = append(s.progress, *b.Progress)
	}
	for _, t := range b.Tickets {
		s.delivered++
		if err := ticket.Validate(t); err != nil {
			s.invalid = append(s.invalid, err)
			continue
		}
		s.tickets[t.ID] = t
		for _, e := range ticket.Events(t, s.horizon) {
			key := t.ID + "/" + e.ID
			if s.counted[key] {
				continue
			}
			s.counted[key] = true
			s.events = append(s.events, countedEvent{labels: labelsOf(t), event: e})
		}
	}
	if b.InScope != nil {
		keep := map[string]bool{}
		for _, id := range b.InScope {
			keep[id] = true
		}
		for id := range s.tickets {
			if !keep[id] {
				delete(s.tickets, id)
			}
		}
	}
	if b.Cursor != nil {
		s.cursor = b.Cursor
	}
	return nil
}

// observed is the part of fakejira.Truth the comparison covers.
type observed struct {
	Created, Resolved, Reopened map[fakejira.Labels]int
	FirstResponseSeconds        map[fakejira.Labels][]float64
	ResolutionSeconds           map[fakejira.Labels][]float64
	SLACycles                   map[fakejira.SLALabels]fakejira.SLAOutcome
	Satisfaction                map[fakejira.SatisfactionLabels][]int
	Open                        map[fakejira.OpenLabels]int
	AwaitingFirstResponse       map[fakejira.Labels]int
	BreachedOpen                map[fakejira.DeskSLA]int
}

func newObserved() observed {
	return observed{
		Created: map[fakejira.Labels]int{}, Resolved: map[fakejira.Labels]int{}, Reopened: map[fakejira.Labels]int{},
		FirstResponseSeconds: map[fakejira.Labels][]float64{}, ResolutionSeconds: map[fakejira.Labels][]float64{},
		SLACycles: map[fakejira.SLALabels]fakejira.SLAOutcome{}, Satisfaction: map[fakejira.SatisfactionLabels][]int{},
		Open: map[fakejira.OpenLabels]int{}, AwaitingFirstResponse: map[fakejira.Labels]int{}, BreachedOpen: map[fakejira.DeskSLA]int{},
	}
}

// fromStore runs the ledger's facts through the derivation package.
func (s *ledgerStore) observed(now time.Time) observed {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := newObserved()
	for _, ce := range s.events {
		l, e := ce.labels, ce.event
		switch e.Kind {
		case ticket.EventCreated:
			o.Created[l]++
		case ticket.EventResolved:
			o.Resolved[l]++
			o.ResolutionSeconds[l] = append(o.ResolutionSeconds[l], e.Seconds)
		case ticket.EventReopened:
			o.Reopened[l]++
		case ticket.EventFirstResponse:
			o.FirstResponseSeconds[l] = append(o.FirstResponseSeconds[l], e.Seconds)
		case ticket.EventSLACycle:
			k := fakejira.SLALabels{Labels: l, SLA: e.SLA}
			out := o.SLACycles[k]
			if e.Breached {
				out.Breached++
			} else {
				out.Met++
			}
			o.SLACycles[k] = out
		case ticket.EventSatisfaction:
			k := fakejira.SatisfactionLabels{Source: l.Source, Desk: l.Desk, RequestType: l.RequestType}
			o.Satisfaction[k] = append(o.Satisfaction[k], e.Rating)
		}
	}
	for _, t := range s.tickets {
		st := ticket.CurrentState(t)
		if !st.Open {
			continue
		}
		l := labelsOf(t)
		o.Open[fakejira.OpenLabels{Labels: l, StatusCategory: fakejira.Category(st.Category)}]++
		if st.AwaitingFirstResponse {
			o.AwaitingFirstResponse[l]++
		}
		for _, sla := range st.SLAs {
			if sla.BreachedAt(now) {
				o.BreachedOpen[fakejira.DeskSLA{Desk: t.Desk, SLA: sla.Name}]++
			}
		}
	}
	return o
}

func truthObserved(tr fakejira.Truth) observed {
	return observed{
		Created: tr.Created, Resolved: tr.Resolved, Reopened: tr.Reopened,
		FirstResponseSeconds: tr.FirstResponseSeconds, ResolutionSeconds: tr.ResolutionSeconds,
		SLACycles: tr.SLACycles, Satisfaction: tr.Satisfaction,
		Open: tr.Open, AwaitingFirstResponse: tr.AwaitingFirstResponse, BreachedOpen: tr.BreachedOpen,
	}
}

// compareObserved reports every difference between what the exporter's
// facts derive to and the fake's ground truth.
func compareObserved(t *testing.T, got, want observed) {
	t.Helper()
	counts := func(name string, g, w any) {
		gv, wv := reflect.ValueOf(g), reflect.ValueOf(w)
		keys := map[any]bool{}
		for _, k := range gv.MapKeys() {
			keys[k.Interface()] = true
		}
		for _, k := range wv.MapKeys() {
			keys[k.Interface()] = true
		}
		for k := range keys {
			a, b := gv.MapIndex(reflect.ValueOf(k)), wv.MapIndex(reflect.ValueOf(k))
			var av, bv any
			if a.IsValid() {
				av = a.Interface()
			}
			if b.IsValid() {
				bv = b.Interface()
			}
			if !sameValue(av, bv) {
				t.Errorf("%s[%+v] = %v, truth %v", name, k, av, bv)
			}
		}
	}
	counts("created", got.Created, want.Created)
	counts("resolved", got.Resolved, want.Resolved)
	counts("reopened", got.Reopened, want.Reopened)
	counts("first_response_seconds", got.FirstResponseSeconds, want.FirstResponseSeconds)
	counts("resolution_seconds", got.ResolutionSeconds, want.ResolutionSeconds)
	counts("sla_cycles", got.SLACycles, want.SLACycles)
	counts("satisfaction", got.Satisfaction, want.Satisfaction)
	counts("open", got.Open, want.Open)
	counts("awaiting_first_response", got.AwaitingFirstResponse, want.AwaitingFirstResponse)
	counts("breached_open", got.BreachedOpen, want.BreachedOpen)
}

// sameValue compares map values: zero equals absent, lists compare sorted
// (floats to the millisecond Jira renders).
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil || reflect.ValueOf(b).IsZero() || (reflect.ValueOf(b).Kind() == reflect.Slice && reflect.ValueOf(b).Len() == 0)
	case int:
		y, _ := b.(int)
		return x == y
	case []float64:
		y, _ := b.([]float64)
		if len(x) != len(y) {
			return false
		}
		x, y = slices.Sorted(slices.Values(x)), slices.Sorted(slices.Values(y))
		for i := range x {
			if math.Abs(x[i]-y[i]) > 0.001 {
				return false
			}
		}
		return true
	case []int:
		y, _ := b.([]int)
		return slices.Equal(slices.Sorted(slices.Values(x)), slices.Sorted(slices.Values(y)))
	}
	if b == nil {
		return reflect.ValueOf(a).IsZero()
	}
	return reflect.DeepEqual(a, b)
}

// stepClock is the shared data clock of the fake and the source.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type siteEnv struct {
	srv     *fakejira.Server
	clock   *stepClock
	cfg     Config
	httpCfg promconfig.HTTPClientConfig
	reg     *prometheus.Registry
	metrics *api.Metrics
}

func newSite(t *testing.T, opts fakejira.Options, tickets int, mutate func(*Config)) *siteEnv {
	t.Helper()
	if opts.Now == nil {
		opts.Now = time.Now
	}
	clock := &stepClock{now: opts.Now()}
	opts.Now = clock.Now
	srv := fakejira.New(opts)
	t.Cleanup(srv.Close)
	if tickets > 0 {
		srv.Add(fakejira.Generate(opts.Seed+1, tickets, fakejira.GenerateOptions{End: clock.Now()})...)
	}
	cfg := testConfig(srv.URL)
	cfg.JQL = "project in (IT, HR, FAC)"
	cfg.AutomationAccountIDs = []string{fakejira.DefaultAutomation.AccountID}
	if mutate != nil {
		mutate(&cfg)
	}
	httpCfg := promconfig.HTTPClientConfig{BasicAuth: &promconfig.BasicAuth{Username: fakejira.DefaultEmail, Password: fakejira.DefaultAPIToken}}
	if opts.Deployment == fakejira.DeploymentDataCenter {
		httpCfg = promconfig.HTTPClientConfig{Authorization: &promconfig.Authorization{Type: "Bearer", Credentials: fakejira.DefaultPAT}}
	}
	reg := prometheus.NewRegistry()
	return &siteEnv{srv: srv, clock: clock, cfg: cfg, httpCfg: httpCfg, reg: reg, metrics: api.NewMetrics(reg)}
}

// source starts a fresh Source, as a restarted process would.
func (e *siteEnv) source(t *testing.T, logs io.Writer) *Source {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src, err := New(fakejira.DefaultSource, e.cfg, e.httpCfg, source.Env{Logger: logger, API: e.metrics, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func pollOnce(t *testing.T, src *Source, store *ledgerStore) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := src.Poll(ctx, store.horizon, store.cursor, store.emit); err != nil {
		t.Fatalf("poll: %v", err)
	}
	if len(store.invalid) > 0 {
		t.Fatalf("source delivered facts the derivation rejects: %v", store.invalid)
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// mutateSite changes a few tickets the way agents and customers do.
func mutateSite(t *testing.T, srv *fakejira.Server) (answered, resolved, reopened, rated string) {
	t.Helper()
	for _, is := range srv.Issues() {
		open := !strings.HasPrefix(is.StatusID, fakejira.StatusResolved) && is.StatusID != fakejira.StatusClosed && is.StatusID != fakejira.StatusCanceled
		switch {
		case open && answered == "" && len(is.Comments) == 0:
			answered = is.Key
		case open && resolved == "" && is.Key != answered:
			resolved = is.Key
		case is.StatusID == fakejira.StatusResolved && reopened == "":
			reopened = is.Key
		case is.StatusID == fakejira.StatusResolved && rated == "" && len(is.Ratings) == 0:
			rated = is.Key
		}
	}
	if answered == "" || resolved == "" || reopened == "" || rated == "" {
		t.Fatalf("generated data lacks candidates: %q %q %q %q", answered, resolved, reopened, rated)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(srv.AddComment(answered, fakejira.RoleAgent, true))
	must(srv.Transition(resolved, fakejira.StatusResolved))
	must(srv.Transition(reopened, fakejira.StatusInProgress))
	must(srv.Rate(rated, 2))
	return
}

func TestCloudSyncMatchesTruth(t *testing.T) {
	start := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	site := newSite(t, fakejira.Options{Deployment: fakejira.DeploymentCloud, Seed: 11, Now: func() time.Time { return start }}, 600, nil)
	store := newLedgerStore(start.Add(-30 * 24 * time.Hour))

	src := site.source(t, nil)
	pollOnce(t, src, store)
	compareObserved(t, store.observed(site.clock.Now()), truthObserved(site.srv.Truth(store.horizon, fakejira.SLATimeToFirstResponse)))

	synced := len(store.tickets)
	counts := site.srv.Counts()
	for _, ep := range []string{"serverInfo", "myself", "field", "status", "approximate_count"} {
		if counts[ep] != 1 {
			t.Errorf("%s called %d times, want 1", ep, counts[ep])
		}
	}
	if got, limit := counts["search_jql"], ceilDiv(synced, 100); got > limit {
		t.Errorf("initial sync of %d tickets took %d search pages, budget %d", synced, got, limit)
	}
	if got, limit := counts["changelog_bulkfetch"], ceilDiv(synced, 1000); got > limit {
		t.Errorf("initial sync took %d bulkfetch calls, budget %d", got, limit)
	}
	if extra := site.srv.Total() - counts["search_jql"] - counts["changelog_bulkfetch"] - 5; extra > 0 {
		t.Errorf("%d per-ticket requests in the common path: %v", extra, counts)
	}

	site.srv.ResetCounts()
	site.clock.Advance(2 * time.Minute)
	pollOnce(t, src, store)
	if site.srv.Total() != 1 || site.srv.Count("search_jql") != 1 {
		t.Errorf("idle incremental poll sent %v, want exactly one search", site.srv.Counts())
	}

	site.clock.Advance(10 * time.Minute)
	answered, resolved, reopened, rated := mutateSite(t, site.srv)
	site.srv.ResetCounts()
	pollOnce(t, site.source(t, nil), store) // a restart: only the committed cursor carries over
	if site.srv.Count("search_jql") != 1 || site.srv.Count("changelog_bulkfetch") != 1 {
		t.Errorf("incremental poll after 4 changes sent %v", site.srv.Counts())
	}
	compareObserved(t, store.observed(site.clock.Now()), truthObserved(site.srv.Truth(store.horizon, fakejira.SLATimeToFirstResponse)))
	for _, key := range []string{answered, resolved, reopened, rated} {
		found := false
		for _, tk := range store.tickets {
			found = found || tk.Key == key
		}
		if !found {
			t.Errorf("mutated ticket %s not delivered", key)
		}
	}
}

func TestDataCenterSyncPastResultWindow(t *testing.T) {
	start := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	site := newSite(t, fakejira.Options{Deployment: fakejira.DeploymentDataCenter, Seed: 21, SearchWindow: 120,
		Now: func() time.Time { return start }}, 400, func(c *Config) {
		c.PageSize = 50
		c.MaxResultWindow = 120
		c.FirstResponse = FirstResponseComment
	})
	store := newLedgerStore(start.Add(-60 * 24 * time.Hour))
	pollOnce(t, site.source(t, nil), store)
	compareObserved(t, store.observed(site.clock.Now()), truthObserved(site.srv.Truth(store.horizon, "")))
	for _, r := range site.srv.Requests() {
		if r.Status >= 400 {
			t.Errorf("request %s %s?%s answered %d", r.Method, r.Path, r.Query, r.Status)
		}
	}
	requeried := false
	for _, r := range site.srv.Requests() {
		requeried = requeried || (r.Endpoint == "search" && strings.Contains(r.Query, "id+%3E+"))
	}
	if !requeried {
		t.Errorf("no keyset re-query past the %d-result window", site.cfg.MaxResultWindow)
	}
	if site.srv.Count("search") < ceilDiv(len(store.tickets), 50) {
		t.Errorf("only %d searches for %d tickets", site.srv.Count("search"), len(store.tickets))
	}

	site.clock.Advance(15 * time.Minute)
	mutateSite(t, site.srv)
	pollOnce(t, site.source(t, nil), store)
	compareObserved(t, store.observed(site.clock.Now()), truthObserved(site.srv.Truth(store.horizon, "")))
}

func TestCrashMidSyncResumesFromCommittedCursor(t *testing.T) {
	start := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	site := newSite(t, fakejira.Options{Deployment: fakejira.DeploymentDataCenter, Seed: 31,
		Now: func() time.Time { return start }}, 300, func(c *Config) { c.PageSize = 40 })
	store := newLedgerStore(start.Add(-45 * 24 * time.Hour))
	store.crashAt = 3
	err := site.source(t, nil).Poll(context.Background(), store.horizon, store.cursor, store.emit)
	if !errors.Is(err, errCrash) {
		t.Fatalf("poll error = %v, want the simulated crash", err)
	}
	if store.batches != 2 {
		t.Fatalf("%d batches committed before the crash, want 2", store.batches)
	}
	state, err := api.DecodeCursor(store.cursor)
	if err != nil || !state.Initial() || !state.Active || state.AfterID == 0 {
		t.Fatalf("committed cursor %+v (%v) does not resume the initial sync", state, err)
	}
	store.crashAt = 0
	site.srv.ResetCounts()
	before := len(store.progress)
	pollOnce(t, site.source(t, nil), store)
	if resumed := store.progress[before]; resumed.Done != state.Done || resumed.Done == 0 {
		t.Errorf("first progress after the restart %+v, want the %d tickets committed before the crash", resumed, state.Done)
	}
	for i, p := range store.progress {
		if p.Total == 0 || p.Done > p.Total || (i > 0 && p.Done < store.progress[i-1].Done) {
			t.Errorf("progress %d = %+v after %+v", i, p, store.progress[max(i-1, 0)])
		}
	}
	if last := store.progress[len(store.progress)-1]; last.Done != last.Total {
		t.Errorf("final progress %+v is not complete", last)
	}
	if store.delivered > len(store.tickets)+0 {
		t.Errorf("%d tickets delivered for %d distinct: the resumed sync re-read committed pages", store.delivered, len(store.tickets))
	}
	compareObserved(t, store.observed(site.clock.Now()), truthObserved(site.srv.Truth(store.horizon, fakejira.SLATimeToFirstResponse)))
}

func TestNewYorkUserAcrossAutumnDST(t *testing.T) {
	// 05:58Z is 01:58 EDT; ten minutes later it is 01:08 EST, the repeated hour.
	start := time.Date(2026, 11, 1, 5, 58, 0, 0, time.UTC)
	site := newSite(t, fakejira.Options{Deployment: fakejira.DeploymentCloud, Seed: 41, TimeZone: "America/New_York",
		Now: func() time.Time { return start }}, 150, nil)
	store := newLedgerStore(start.Add(-20 * 24 * time.Hour))
	pollOnce(t, site.source(t, nil), store)

	site.clock.Advance(10 * time.Minute)
	// The changes happen at 01:08 EST. The incremental bound, 01:53 EDT, is
	// a wall time New York shows twice; read as EST it would lie after the
	// changes, so the literal has to step back to 00:53.
	mutateSite(t, site.srv)
	site.srv.ResetCounts()
	pollOnce(t, site.source(t, nil), store)
	compareObserved(t, store.observed(site.clock.Now()), truthObserved(site.srv.Truth(store.horizon, fakejira.SLATimeToFirstResponse)))
	for _, r := range site.srv.Requests() {
		if r.Endpoint == "search_jql" && !strings.Contains(r.Query, "%222026-11-01+00%3A53%22") {
			t.Errorf("incremental search does not start at 00:53 New York time: %s", r.Query)
		}
	}
}

func TestRateLimitedSyncHonoursRetryAfter(t *testing.T) {
	start := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	site := newSite(t, fakejira.Options{Deployment: fakejira.DeploymentCloud, Seed: 51, Now: func() time.Time { return start }}, 250, nil)
	site.srv.FailNext(1, fakejira.Fault{Kind: fakejira.FaultStatus, Status: 429, Endpoint: "search_jql", RetryAfter: time.Second})
	store := newLedgerStore(start.Add(-30 * 24 * time.Hour))
	pollOnce(t, site.source(t, nil), store)
	if v := site.srv.PenaltyViolations(); len(v) > 0 {
		t.Errorf("%d requests during the Retry-After penalty", len(v))
	}
	if got := rateLimitedCount(t, site.reg, fakejira.DefaultSource); got != 1 {
		t.Errorf("rate limited counter %v, want 1", got)
	}
	if got := requestCount(t, site.reg, fakejira.DefaultSource, "search_jql", "429"); got != 1 {
		t.Errorf("429 requests counted %v, want 1", got)
	}
	compareObserved(t, store.observed(site.clock.Now()), truthObserved(site.srv.Truth(store.horizon, fakejira.SLATimeToFirstResponse)))
}

// A cursor this build cannot read must not wedge the source: it logs and
// runs a full sync, which the store de-duplicates.
func TestUnreadableCursorStartsAFullSync(t *testing.T) {
	env := newSite(t, fakejira.Options{Seed: 3}, 150, nil)
	store := newLedgerStore(env.clock.Now().Add(-60 * 24 * time.Hour))
	store.cursor = []byte(`{"v":99,"phase":"from the future"}`)
	var logs bytes.Buffer
	pollOnce(t, env.source(t, &logs), store)
	if !strings.Contains(logs.String(), "starting a full sync") {
		t.Errorf("no warning about the unreadable cursor in:\n%s", logs.String())
	}
	compareObserved(t, store.observed(env.clock.Now()), truthObserved(env.srv.Truth(store.horizon, "Time to first response")))
}

// JQL bounds have minute precision, so an incremental pass also re-reads the
// tickets updated in the seconds before its bound. Those must be recognised
// as unchanged: an idle poll stays one search, with no changelog fetch.
func TestIdlePollRecognisesTicketsBeforeTheBoundInItsMinute(t *testing.T) {
	passStart := time.Date(2026, 11, 20, 15, 0, 30, 0, time.UTC)
	env := newSite(t, fakejira.Options{Seed: 9, TimeZone: "UTC", Now: func() time.Time { return passStart }}, 60, nil)
	bound := passStart.Add(-time.Duration(env.cfg.Overlap)) // 14:55:30; the literal reads 14:55
	var key string
	for _, is := range env.srv.Issues() {
		if is.Updated.Before(bound.Truncate(time.Minute)) {
			key = is.Key
			break
		}
	}
	if key == "" {
		t.Fatal("no ticket old enough to update inside the bound's minute")
	}
	env.clock.Advance(bound.Add(-10 * time.Second).Sub(passStart)) // 14:55:20
	if err := env.srv.AddComment(key, fakejira.RoleAgent, true); err != nil {
		t.Fatal(err)
	}
	env.clock.Advance(passStart.Sub(env.clock.Now()))

	store := newLedgerStore(passStart.Add(-60 * 24 * time.Hour))
	src := env.source(t, nil)
	pollOnce(t, src, store)
	env.clock.Advance(time.Minute)
	env.srv.ResetCounts()
	pollOnce(t, src, store)
	if counts := env.srv.Counts(); env.srv.Total() != 1 || counts["search_jql"] != 1 {
		t.Fatalf("idle poll sent %v; the ticket updated at 14:55:20 was re-read and not recognised", counts)
	}
}
