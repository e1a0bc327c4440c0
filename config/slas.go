package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	// Calendars name IANA zones; embedding the zone database keeps them
	// loadable in minimal container images.
	_ "time/tzdata"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/servicedesk-exporter/servicedesk_exporter/ticket"
)

// maxSLANameLength keeps an SLA name, which becomes a label value, readable.
const maxSLANameLength = 100

var (
	slaKeys      = []string{"name", "stop", "goals", "default_goal", "pause_statuses", "calendar"}
	calendarKeys = []string{"time_zone", "working_days", "working_hours", "holidays"}
	weekdayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} // indexed by time.Weekday
	workingHours = regexp.MustCompile(`^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$`)
	// plainKey is a priority name that can follow a dot in a message.
	plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// Calendar defaults: Monday to Friday, nine to five.
const (
	defaultDayStart = 9 * time.Hour
	defaultDayEnd   = 17 * time.Hour
)

func (p *parser) slas(f field) []ticket.SLAPolicy {
	if !isSet(f.node) || p.failed[resolve(f.node)] {
		return nil
	}
	items, ok := p.sequence(f)
	if !ok {
		return nil
	}
	var out []ticket.SLAPolicy
	firstUse := map[string]int{}
	for i, item := range items {
		if p.failed[resolve(item)] {
			continue
		}
		if policy, ok := p.sla(f.item(item, i), firstUse); ok {
			out = append(out, policy)
		}
	}
	return out
}

func (p *parser) sla(f field, firstUse map[string]int) (ticket.SLAPolicy, bool) {
	before := len(p.errs)
	var policy ticket.SLAPolicy
	n, ok := p.mapping(f, slaKeys...)
	if !ok {
		return policy, false
	}
	if v := mappingValue(n, "name"); !isSet(v) {
		p.required(n, n.Line, f.scope, "name", "%s.name is required", f.key)
	} else if name, ok := p.nonEmpty(f.child(v, "name")); ok {
		// Names differing in case only would read as one SLA on a dashboard.
		id := strings.ToLower(name)
		switch {
		case !labelSafe(name):
			p.errorf(v.Line, f.scope, "%s.name %q must be at most %d printable characters, without spaces at either end", f.key, name, maxSLANameLength)
		case firstUse[id] != 0:
			p.errorf(v.Line, f.scope, "%s: duplicate SLA name %q (first used on line %d)", f.key, name, firstUse[id])
		default:
			firstUse[id] = v.Line
			policy.Name = name
		}
	}
	if v := mappingValue(n, "stop"); !isSet(v) {
		p.required(n, n.Line, f.scope, "stop", "%s.stop is required (first_response or resolution)", f.key)
	} else if stop, ok := p.str(f.child(v, "stop")); ok {
		switch s := ticket.SLAStop(stop); s {
		case ticket.StopFirstResponse, ticket.StopResolution:
			policy.Stop = s
		default:
			p.errorf(v.Line, f.scope, "%s.stop must be first_response or resolution, got %q", f.key, stop)
		}
	}
	goals, defaultGoal := mappingValue(n, "goals"), mappingValue(n, "default_goal")
	if isSet(goals) {
		policy.Goals = p.goals(f.child(goals, "goals"))
	}
	if isSet(defaultGoal) {
		if d, ok := p.positiveDuration(f.child(defaultGoal, "default_goal")); ok {
			policy.DefaultGoal = time.Duration(d)
		}
	}
	hasGoals := isSet(goals) && (goals.Kind != yaml.MappingNode || len(mappingPairs(goals)) > 0)
	if !hasGoals && !isSet(defaultGoal) && !p.guessed[n]["goals"] && !p.guessed[n]["default_goal"] {
		p.errorf(lineOf(mappingKey(n, "goals"), n), f.scope, "%s needs goals (per priority), a default_goal or both", f.key)
	}
	if v := mappingValue(n, "pause_statuses"); isSet(v) {
		policy.PauseStatuses = p.statuses(f.child(v, "pause_statuses"))
	}
	if v := mappingValue(n, "calendar"); isSet(v) && !p.failed[v] {
		policy.Calendar = p.calendar(f.child(v, "calendar"), mappingKey(n, "calendar").Line)
	}
	if len(p.errs) == before {
		// The engine's own rules, so a policy the loader accepts is one
		// derivation can measure.
		if err := policy.Validate(); err != nil {
			p.errorf(n.Line, f.scope, "%s: %v", f.key, err)
		}
	}
	return policy, len(p.errs) == before
}

// labelSafe keeps a name readable as a label value: printable, trimmed, short.
func labelSafe(name string) bool {
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxSLANameLength || strings.TrimSpace(name) != name {
		return false
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// goals reads a mapping of priority name to goal.
func (p *parser) goals(f field) map[string]time.Duration {
	n, ok := p.anyMapping(f)
	if !ok {
		return nil
	}
	goals := map[string]time.Duration{}
	for _, pr := range mappingPairs(n) {
		priority := pr.key.Value
		if pr.key.Kind != yaml.ScalarNode || strings.TrimSpace(priority) == "" {
			p.errorf(pr.key.Line, f.scope, "%s: a priority name must not be empty", f.key)
			continue
		}
		step := "." + priority
		if !plainKey.MatchString(priority) {
			step = "[" + strconv.Quote(priority) + "]"
		}
		if d, ok := p.positiveDuration(field{node: pr.value, scope: f.scope, key: f.key + step}); ok {
			goals[priority] = time.Duration(d)
		}
	}
	return goals
}

// statuses reads a list of status names, each once (case-insensitively, as they are compared).
func (p *parser) statuses(f field) []string {
	items, ok := p.sequence(f)
	if !ok {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for i, item := range items {
		status, ok := p.nonEmpty(f.item(item, i))
		if !ok {
			continue
		}
		if id := strings.ToLower(status); seen[id] {
			p.errorf(item.Line, f.scope, "%s: duplicate status %q", f.key, status)
		} else {
			seen[id] = true
			out = append(out, status)
		}
	}
	return out
}

// calendar reads a business calendar; keyLine is the line of its key.
func (p *parser) calendar(f field, keyLine int) *ticket.Calendar {
	n, ok := p.mapping(f, calendarKeys...)
	if !ok {
		return nil
	}
	cal := &ticket.Calendar{DayStart: defaultDayStart, DayEnd: defaultDayEnd}
	for d := time.Monday; d <= time.Friday; d++ {
		cal.WorkingDays[d] = true
	}
	if v := mappingValue(n, "time_zone"); !isSet(v) {
		p.required(n, keyLine, f.scope, "time_zone", "%s.time_zone is required, e.g. Europe/Berlin or UTC", f.key)
	} else if name, ok := p.nonEmpty(f.child(v, "time_zone")); ok {
		loc, err := time.LoadLocation(name)
		// "Local" is whatever zone the exporter's machine has, not a
		// calendar's; the empty name would be UTC.
		if err != nil || name == "Local" {
			p.errorf(v.Line, f.scope, "%s.time_zone: unknown time zone %q (want an IANA name such as Europe/Berlin, or UTC)", f.key, name)
		} else {
			cal.Location = loc
		}
	}
	if v := mappingValue(n, "working_days"); isSet(v) {
		if days, ok := p.weekdays(f.child(v, "working_days")); ok {
			cal.WorkingDays = days
		}
	}
	if v := mappingValue(n, "working_hours"); isSet(v) {
		if start, end, ok := p.hours(f.child(v, "working_hours")); ok {
			cal.DayStart, cal.DayEnd = start, end
		}
	}
	if v := mappingValue(n, "holidays"); isSet(v) {
		cal.Holidays = p.holidays(f.child(v, "holidays"))
	}
	return cal
}

func (p *parser) weekdays(f field) ([7]bool, bool) {
	var days [7]bool
	items, ok := p.sequence(f)
	if !ok {
		return days, false
	}
	if len(items) == 0 {
		p.errorf(f.line(), f.scope, "%s must list at least one day", f.key)
		return days, false
	}
	valid := true
	for i, item := range items {
		name, ok := p.str(f.item(item, i))
		if !ok {
			valid = false
			continue
		}
		day := -1
		for d, short := range weekdayNames {
			if strings.EqualFold(name, short) {
				day = d
			}
		}
		switch {
		case day < 0:
			p.errorf(item.Line, f.scope, "%s[%d]: unknown day %q (want mon, tue, wed, thu, fri, sat or sun)", f.key, i, name)
			valid = false
		case days[day]:
			p.errorf(item.Line, f.scope, "%s: duplicate day %q", f.key, name)
		default:
			days[day] = true
		}
	}
	return days, valid
}

// hours reads "09:00-17:00": the end after the start, 24:00 allowed as the end.
func (p *parser) hours(f field) (start, end time.Duration, ok bool) {
	text, ok := p.str(f)
	if !ok {
		return 0, 0, false
	}
	m := workingHours.FindStringSubmatch(text)
	if m != nil {
		var startOK, endOK bool
		start, startOK = clock(m[1], m[2], false)
		end, endOK = clock(m[3], m[4], true)
		if startOK && endOK {
			if end <= start {
				p.errorf(f.line(), f.scope, "%s: the end %s:%s must be after the start %s:%s", f.key, m[3], m[4], m[1], m[2])
				return 0, 0, false
			}
			return start, end, true
		}
	}
	p.errorf(f.line(), f.scope, "%s must look like 09:00-17:00 (24-hour clock), got %q", f.key, text)
	return 0, 0, false
}

// clock reads HH:MM as an offset from midnight; 24:00 only as an end.
func clock(hours, minutes string, isEnd bool) (time.Duration, bool) {
	h, m := atoi(hours), atoi(minutes)
	if m > 59 || h > 24 || (h == 24 && (m != 0 || !isEnd)) {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, true
}

func (p *parser) holidays(f field) []ticket.CivilDate {
	items, ok := p.sequence(f)
	if !ok {
		return nil
	}
	var out []ticket.CivilDate
	seen := map[ticket.CivilDate]bool{}
	for i, item := range items {
		d, ok := p.date(f.item(item, i))
		if !ok {
			continue
		}
		day := ticket.CivilDate{Year: d.Year(), Month: d.Month(), Day: d.Day()}
		if seen[day] {
			p.errorf(item.Line, f.scope, "%s: duplicate date %s", f.key, d.Format(time.DateOnly))
			continue
		}
		seen[day] = true
		out = append(out, day)
	}
	return out
}

// slaYAML is an SLA policy as the file spells it, for Config.String.
type slaYAML struct {
	Name          string                    `yaml:"name"`
	Stop          ticket.SLAStop            `yaml:"stop"`
	Goals         map[string]model.Duration `yaml:"goals,omitempty"`
	DefaultGoal   model.Duration            `yaml:"default_goal,omitempty"`
	PauseStatuses []string                  `yaml:"pause_statuses,omitempty"`
	Calendar      *calendarYAML             `yaml:"calendar,omitempty"`
}

type calendarYAML struct {
	TimeZone     string   `yaml:"time_zone"`
	WorkingDays  []string `yaml:"working_days,flow"`
	WorkingHours string   `yaml:"working_hours"`
	Holidays     []string `yaml:"holidays,omitempty,flow"`
}

func slasYAML(policies []ticket.SLAPolicy) []slaYAML {
	out := make([]slaYAML, len(policies))
	for i, policy := range policies {
		s := slaYAML{Name: policy.Name, Stop: policy.Stop, DefaultGoal: model.Duration(policy.DefaultGoal), PauseStatuses: policy.PauseStatuses}
		if len(policy.Goals) > 0 {
			s.Goals = make(map[string]model.Duration, len(policy.Goals))
			for priority, goal := range policy.Goals {
				s.Goals[priority] = model.Duration(goal)
			}
		}
		if c := policy.Calendar; c != nil {
			cy := &calendarYAML{WorkingHours: clockText(c.DayStart) + "-" + clockText(c.DayEnd)}
			if c.Location != nil {
				cy.TimeZone = c.Location.String()
			}
			for d, working := range c.WorkingDays {
				if working {
					cy.WorkingDays = append(cy.WorkingDays, weekdayNames[d])
				}
			}
			// Monday first, as people list a week.
			if len(cy.WorkingDays) > 0 && cy.WorkingDays[0] == "sun" {
				cy.WorkingDays = append(cy.WorkingDays[1:], "sun")
			}
			for _, h := range c.Holidays {
				cy.Holidays = append(cy.Holidays, fmt.Sprintf("%04d-%02d-%02d", h.Year, h.Month, h.Day))
			}
			s.Calendar = cy
		}
		out[i] = s
	}
	return out
}

func clockText(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
