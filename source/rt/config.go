package rt

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"

	// TicketSQL dates are written in the zone RT reads them in; embedding
	// the zone database keeps that working in minimal container images.
	_ "time/tzdata"
)

// Config configures a Request Tracker 5 source (type: rt).
type Config struct {
	// URL is RT's web base URL ($WebBaseURL); REST2 lives under
	// URL/REST/2.0/.
	URL string `yaml:"url"`
	// Queues and Query choose the tickets, exactly one of them: queue
	// names (each a desk), or a TicketSQL search.
	Queues []string `yaml:"queues"`
	Query  string   `yaml:"query"`
	// TimeZone is the zone RT reads dates in TicketSQL in: the API user's
	// time zone preference, else RT's $Timezone.
	TimeZone string `yaml:"time_zone"`
	// Lifecycles describes lifecycles by name, as RT's %Lifecycles does;
	// RT's default lifecycle is built in and may be replaced here.
	Lifecycles map[string]Lifecycle `yaml:"lifecycles"`
	// SatisfactionField names the ticket custom field holding ratings
	// 1..5; "" reads no ratings.
	SatisfactionField string `yaml:"satisfaction_field"`
	// RequestTypeField names a ticket custom field for the request_type
	// label; "" uses the queue name.
	RequestTypeField string `yaml:"request_type_field"`
	// Priority names RT's numeric priorities by ranges: a ticket gets the
	// name of the range with the highest min not above its priority.
	Priority []PriorityRange `yaml:"priority"`
	// AutomationUsers are RT users whose replies are automation (an
	// integration account), never a response; RT_System always is.
	AutomationUsers []string `yaml:"automation_users"`

	RequestsPerSecond float64 `yaml:"requests_per_second"`
	// Timeout bounds one HTTP request (each retry gets its own).
	Timeout model.Duration `yaml:"timeout"`
	// MaxRetries bounds retries of one request after 429, 5xx or a timeout.
	MaxRetries int `yaml:"max_retries"`
	// Overlap re-reads tickets updated shortly before the last poll: RT
	// dates have second precision and clocks drift.
	Overlap model.Duration `yaml:"overlap"`
	// ReconcileInterval is how often the ids in scope are listed so
	// tickets that left it drop out of the gauges; 0 disables it.
	ReconcileInterval model.Duration `yaml:"reconcile_interval"`
	// MaxPages caps the pages of one pass, and of one batch's transactions.
	MaxPages int `yaml:"max_pages"`
}

// Lifecycle lists a lifecycle's statuses by RT's categories: initial
// statuses are the category new, active ones indeterminate, inactive ones
// done (a change into an inactive status is a resolution).
type Lifecycle struct {
	Initial  []string `yaml:"initial"`
	Active   []string `yaml:"active"`
	Inactive []string `yaml:"inactive"`
}

// PriorityRange names the priorities from Min up to the next range's min.
type PriorityRange struct {
	Name string `yaml:"name"`
	Min  int    `yaml:"min"`
}

// DefaultLifecycle is RT's own default lifecycle (etc/RT_Config.pm).
var DefaultLifecycle = Lifecycle{
	Initial:  []string{"new"},
	Active:   []string{"open", "stalled"},
	Inactive: []string{"resolved", "rejected", "deleted"},
}

// defaultLifecycleName is the lifecycle RT gives a queue unless told.
const defaultLifecycleName = "default"

// DefaultPriority mirrors RT 5's default %PriorityAsString (Low 0,
// Medium 50, High 100), so the label reads as RT's own interface does.
func DefaultPriority() []PriorityRange {
	return []PriorityRange{{Name: "High", Min: 100}, {Name: "Medium", Min: 50}, {Name: "Low", Min: 0}}
}

// DefaultConfig holds the values used for keys left out of an rt: block.
func DefaultConfig() Config {
	return Config{
		TimeZone:          "UTC",
		SatisfactionField: "Satisfaction",
		Priority:          DefaultPriority(),
		RequestsPerSecond: 5,
		Timeout:           model.Duration(30 * time.Second),
		MaxRetries:        5,
		Overlap:           model.Duration(5 * time.Minute),
		ReconcileInterval: model.Duration(time.Hour),
		MaxPages:          10000,
	}
}

// UnmarshalYAML applies the defaults, decodes strictly (unknown keys are
// errors, each on its line) and validates, reporting every problem.
func (c *Config) UnmarshalYAML(node *yaml.Node) error {
	*c = DefaultConfig()
	type plain Config
	// A value that does not decode keeps its default, so the checks of
	// the others still hold and every problem is reported at once.
	return errors.Join(config.DecodeStrict(node, (*plain)(c)), c.check())
}

// Validate reports every invalid key, each a config.KeyError naming it.
func (c Config) Validate() error { return c.check() }

func (c Config) check() error {
	var problems []error
	problem := func(key, format string, args ...any) {
		problems = append(problems, &config.KeyError{Key: key, Msg: fmt.Sprintf(typeName+"."+format, args...)})
	}
	c.checkURL(problem)
	switch hasQueues, hasQuery := len(c.Queues) > 0, strings.TrimSpace(c.Query) != ""; {
	case hasQueues && hasQuery:
		problem("query", "queues and %s.query are exclusive: set one of them", typeName)
	case !hasQueues && !hasQuery:
		problem("", "queues or %s.query is required: the queues to read (each a desk), or a TicketSQL search", typeName)
	}
	seenQueue := map[string]bool{}
	for i, q := range c.Queues {
		key := fmt.Sprintf("queues[%d]", i)
		switch name := strings.TrimSpace(q); {
		case name == "":
			problem(key, "%s must not be empty", key)
		case seenQueue[strings.ToLower(name)]:
			problem(key, "queues: duplicate queue %q", name)
		}
		seenQueue[strings.ToLower(strings.TrimSpace(q))] = true
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil || strings.TrimSpace(c.TimeZone) == "" {
		problem("time_zone", "time_zone: unknown time zone %q (want an IANA name such as Europe/Berlin, or UTC)", c.TimeZone)
	}
	for _, name := range slices.Sorted(maps.Keys(c.Lifecycles)) {
		c.Lifecycles[name].check("lifecycles."+name, name, problem)
	}
	c.checkPriority(problem)
	for i, u := range c.AutomationUsers {
		if strings.TrimSpace(u) == "" {
			problem(fmt.Sprintf("automation_users[%d]", i), "automation_users[%d] must not be empty", i)
		}
	}
	if !(c.RequestsPerSecond > 0 && c.RequestsPerSecond <= 1000) || math.IsNaN(c.RequestsPerSecond) {
		problem("requests_per_second", "requests_per_second must be in (0, 1000], got %g", c.RequestsPerSecond)
	}
	if c.Timeout <= 0 {
		problem("timeout", "timeout must be positive")
	}
	if c.MaxRetries < 0 || c.MaxRetries > 20 {
		problem("max_retries", "max_retries must be in [0, 20], got %d", c.MaxRetries)
	}
	if c.Overlap < 0 || time.Duration(c.Overlap) > 24*time.Hour {
		problem("overlap", "overlap must be in [0s, 24h], got %s", c.Overlap)
	}
	if c.ReconcileInterval < 0 || (c.ReconcileInterval > 0 && time.Duration(c.ReconcileInterval) < time.Minute) {
		problem("reconcile_interval", "reconcile_interval must be 0 (off) or at least 1m, got %s", c.ReconcileInterval)
	}
	if c.MaxPages < 1 {
		problem("max_pages", "max_pages must be at least 1, got %d", c.MaxPages)
	}
	return errors.Join(problems...)
}

func (c Config) checkURL(problem func(key, format string, args ...any)) {
	if strings.TrimSpace(c.URL) == "" {
		problem("url", "url is required: RT's web base URL, e.g. https://rt.example.com")
		return
	}
	u, err := url.Parse(c.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		// The value is not echoed: a mistyped URL may carry credentials.
		problem("url", "url must be an absolute http or https URL")
	case u.User != nil:
		problem("url", "url must not contain credentials; use http_client.authorization or basic_auth")
	case u.RawQuery != "" || u.Fragment != "":
		problem("url", "url must not have a query or fragment")
	case strings.Contains(strings.TrimRight(u.Path, "/"), "/REST/2.0"):
		problem("url", "url is RT's web base URL, without /REST/2.0 (the exporter adds it)")
	}
}

func (l Lifecycle) check(key, name string, problem func(key, format string, args ...any)) {
	if len(l.Initial)+len(l.Active)+len(l.Inactive) == 0 {
		problem(key, "%s lists no statuses: give its initial, active and inactive statuses", key)
		return
	}
	first := map[string]string{}
	for _, group := range []struct {
		key      string
		statuses []string
	}{{"initial", l.Initial}, {"active", l.Active}, {"inactive", l.Inactive}} {
		for i, s := range group.statuses {
			at := fmt.Sprintf("%s.%s[%d]", key, group.key, i)
			status := strings.ToLower(strings.TrimSpace(s))
			if status == "" {
				problem(at, "%s must not be empty", at)
				continue
			}
			if prev, dup := first[status]; dup {
				problem(at, "%s: status %q is already in %s", key, status, prev)
				continue
			}
			first[status] = group.key
		}
	}
	if len(l.Inactive) == 0 {
		problem(key, "%s has no inactive status: without one no %s ticket is ever resolved", key, name)
	}
}

func (c Config) checkPriority(problem func(key, format string, args ...any)) {
	names, mins := map[string]bool{}, map[int]string{}
	for i, r := range c.Priority {
		key := fmt.Sprintf("priority[%d]", i)
		name := strings.TrimSpace(r.Name)
		switch {
		case name == "":
			problem(key+".name", "%s.name is required", key)
		case names[name]:
			problem(key+".name", "priority: duplicate name %q", name)
		}
		names[name] = true
		if other, dup := mins[r.Min]; dup {
			problem(key+".min", "priority: %s and %q both start at %d", key, other, r.Min)
		}
		mins[r.Min] = name
	}
}

// lifecycles returns the configured lifecycles over the built-in default,
// status names lowercased as RT stores them.
func (c Config) lifecycles() map[string]lifecycle {
	out := map[string]lifecycle{defaultLifecycleName: DefaultLifecycle.categories()}
	for name, l := range c.Lifecycles {
		out[name] = l.categories()
	}
	return out
}

// lifecycle maps status → category.
type lifecycle map[string]ticket.Category

func (l Lifecycle) categories() lifecycle {
	out := lifecycle{}
	for _, group := range []struct {
		cat      ticket.Category
		statuses []string
	}{{ticket.CategoryNew, l.Initial}, {ticket.CategoryIndeterminate, l.Active}, {ticket.CategoryDone, l.Inactive}} {
		for _, s := range group.statuses {
			out[strings.ToLower(strings.TrimSpace(s))] = group.cat
		}
	}
	return out
}

// priorityNamer names numeric priorities; ranges sorted by min, highest first.
type priorityNamer []PriorityRange

func newPriorityNamer(ranges []PriorityRange) priorityNamer {
	out := slices.Clone(ranges)
	slices.SortFunc(out, func(a, b PriorityRange) int { return b.Min - a.Min })
	for i := range out {
		out[i].Name = strings.TrimSpace(out[i].Name)
	}
	return out
}

// name is the range's name, "" below every range (and for no ranges).
func (p priorityNamer) name(priority int) string {
	for _, r := range p {
		if priority >= r.Min {
			return r.Name
		}
	}
	return ""
}
