package fakejira

import (
	"encoding/json"
	"time"
)

// Role says who a user is to a service desk. The fake renders it the way
// each deployment does (Cloud accountType, Data Center nothing at all) and
// the ground truth uses it directly.
type Role string

// User roles. RoleAgent is a licensed Jira user ("atlassian" on Cloud),
// RoleCustomer a portal-only customer, RoleAutomation an app (Automation for
// Jira and friends), whose comments never count as a response.
const (
	RoleAgent      Role = "agent"
	RoleCustomer   Role = "customer"
	RoleAutomation Role = "automation"
)

// User is a Jira user as far as the fake cares.
type User struct {
	AccountID   string // Cloud accountId; also the Data Center name/key
	DisplayName string
	Role        Role
}

// accountType is the Cloud spelling of the role.
func (u User) accountType() string {
	switch u.Role {
	case RoleCustomer:
		return "customer"
	case RoleAutomation:
		return "app"
	default:
		return "atlassian"
	}
}

// Issue is one ticket in the fake's data model. Everything the fake serves
// and everything Truth computes is derived from these fields.
type Issue struct {
	ID          int64
	Key         string // PROJ-N
	Project     string // project key, the desk
	RequestType string // Customer Request Type name; empty means none
	Priority    string // empty means no priority
	Summary     string
	Reporter    User

	// Organizations are the JSM customer organizations on the request, by
	// name, in the order they were added; the exporter's customer group is
	// the first of them by name.
	Organizations []string
	// Team is the team serving the issue (the Team field, and the
	// "Assignment group" select with the same value); empty means none.
	Team string
	// Assignee owns the issue; nil means unassigned.
	Assignee *User

	Created time.Time
	Updated time.Time

	StatusID       string // one of the ids served by /rest/api/2/status
	Resolution     string // empty means unresolved
	ResolutionDate time.Time

	// Histories is the full changelog, oldest first.
	Histories []History
	// Comments in creation order.
	Comments []Comment

	// SLAs by name; a name missing here renders as null ("not applicable").
	SLAs []SLA
	// SLAErrors names SLA fields that render as JSM's error object instead
	// of a value, as JSM sends for an issue outside a service project. Such
	// a field is no SLA of the issue (Truth ignores it); SetSLAError keeps
	// SLAs free of those names.
	SLAErrors []string

	// Ratings holds every satisfaction rating ever given, oldest first; the
	// last one is the current value of the Satisfaction field.
	Ratings []Rating
	// SatisfactionRaw, when set, replaces the rendered Satisfaction field
	// value verbatim (a bare number, garbage) so tests can check tolerance.
	SatisfactionRaw json.RawMessage

	// With Options.IndexLag, search sees indexed instead of this issue
	// until indexedUntil; a nil indexed means not searchable yet.
	indexed      *Issue
	indexedUntil time.Time
}

// History is one changelog entry.
type History struct {
	ID     int64
	At     time.Time
	Author User
	Items  []HistoryItem
}

// HistoryItem is one changed field. For status, From/To are status ids and
// the strings their names; for resolution, To is empty when it is cleared;
// for Team the team names, for assignee account ids and display names. A
// change of Organizations keeps the name lists in FromValues and ToValues
// (rendered joined, ids in From and To).
type HistoryItem struct {
	Field      string // "status", "resolution", "Organizations", "Team", "assignee", ...
	From       string
	FromString string
	To         string
	ToString   string

	FromValues, ToValues []string
}

// Fields of the changelog items the segment mutations write.
const (
	HistoryOrganizations = "Organizations"
	HistoryTeam          = "Team"
	HistoryAssignee      = "assignee"
)

// Comment is one comment on an issue.
type Comment struct {
	ID      int64
	Author  User
	Created time.Time
	Public  bool // Cloud jsdPublic; false means an internal note
	Body    string
}

// SLA is the value of one sd-sla-field custom field.
type SLA struct {
	Name      string
	Completed []SLACycle
	Ongoing   *SLAOngoing
}

// SLACycle is a completed cycle. Elapsed is in the SLA's calendar and may
// differ from Stop-Start, as in real JSM.
type SLACycle struct {
	Start    time.Time
	Stop     time.Time
	Goal     time.Duration
	Elapsed  time.Duration
	Breached bool
}

// SLAOngoing is the running cycle. Its clock runs on a 24x7 calendar from
// Start, except while paused: Excluded is the paused time already behind
// it, PausedAt when the current pause began.
type SLAOngoing struct {
	Start    time.Time
	Goal     time.Duration
	Paused   bool
	PausedAt time.Time
	Excluded time.Duration
	// WithinCalendarHours is rendered as is.
	WithinCalendarHours bool
}

// Elapsed is the cycle's elapsed time at now.
func (o *SLAOngoing) Elapsed(now time.Time) time.Duration {
	if o.Paused {
		now = o.PausedAt
	}
	return now.Sub(o.Start) - o.Excluded
}

// BreachAt is when a running clock reaches the goal.
func (o *SLAOngoing) BreachAt() time.Time { return o.Start.Add(o.Excluded + o.Goal) }

// pause stops the clock at now; resume restarts it.
func (o *SLAOngoing) pause(now time.Time) {
	if !o.Paused {
		o.Paused, o.PausedAt = true, now
	}
}

func (o *SLAOngoing) resume(now time.Time) {
	if o.Paused {
		o.Excluded += now.Sub(o.PausedAt)
		o.Paused, o.PausedAt = false, time.Time{}
	}
}

// Breached reports whether the running cycle is past its goal at now.
func (o *SLAOngoing) Breached(now time.Time) bool {
	return o.Elapsed(now) > o.Goal
}

// Rating is one satisfaction rating given.
type Rating struct {
	Value int
	At    time.Time
}

// Category is a status category key.
type Category string

// Status categories, with the ids Jira uses for them.
const (
	CategoryNew           Category = "new"           // id 2, "To Do"
	CategoryIndeterminate Category = "indeterminate" // id 4, "In Progress"
	CategoryDone          Category = "done"          // id 3, "Done"
)

// Status is one workflow status served by /rest/api/2/status.
type Status struct {
	ID       string
	Name     string
	Category Category
}

type statusCategory struct {
	id    int
	key   string
	name  string
	color string
}

var statusCategories = []statusCategory{
	{1, "undefined", "No Category", "medium-gray"},
	{2, "new", "To Do", "blue-gray"},
	{4, "indeterminate", "In Progress", "yellow"},
	{3, "done", "Done", "green"},
}

func categoryByKey(key Category) statusCategory {
	for _, c := range statusCategories {
		if c.key == string(key) {
			return c
		}
	}
	return statusCategories[0]
}

// Well-known status ids of the fake's JSM workflow. Two statuses share each
// category so that a change within one category (which counts for nothing)
// happens in generated data.
const (
	StatusWaitingForSupport  = "10001" // new
	StatusOpen               = "10002" // new
	StatusInProgress         = "10003" // indeterminate
	StatusWaitingForCustomer = "10004" // indeterminate
	StatusResolved           = "10005" // done
	StatusClosed             = "10006" // done
	StatusCanceled           = "10007" // done
)

// Statuses is the fake's workflow.
var Statuses = []Status{
	{StatusWaitingForSupport, "Waiting for support", CategoryNew},
	{StatusOpen, "Open", CategoryNew},
	{StatusInProgress, "In Progress", CategoryIndeterminate},
	{StatusWaitingForCustomer, "Waiting for customer", CategoryIndeterminate},
	{StatusResolved, "Resolved", CategoryDone},
	{StatusClosed, "Closed", CategoryDone},
	{StatusCanceled, "Canceled", CategoryDone},
}

// StatusByID returns the status with that id.
func StatusByID(id string) (Status, bool) {
	for _, s := range Statuses {
		if s.ID == id {
			return s, true
		}
	}
	return Status{}, false
}

// StatusByName returns the status with that name.
func StatusByName(name string) (Status, bool) {
	for _, s := range Statuses {
		if s.Name == name {
			return s, true
		}
	}
	return Status{}, false
}

// statusEver returns the status with that id the site has or once had
// (RetiredStatuses).
func statusEver(id string) (Status, bool) {
	if s, ok := StatusByID(id); ok {
		return s, true
	}
	for _, s := range RetiredStatuses {
		if s.ID == id {
			return s, true
		}
	}
	return Status{}, false
}

func categoryOf(statusID string) Category {
	s, _ := statusEver(statusID)
	return s.Category
}

// Names of the default JSM SLAs.
const (
	SLATimeToFirstResponse = "Time to first response"
	SLATimeToResolution    = "Time to resolution"
)

// Priorities in the order Jira lists them, with their ids.
var priorityIDs = map[string]string{
	"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5",
}

// currentRating is the current Satisfaction value, nil when never rated.
func (is *Issue) currentRating() *Rating {
	if len(is.Ratings) == 0 {
		return nil
	}
	return &is.Ratings[len(is.Ratings)-1]
}

func (is *Issue) sla(name string) *SLA {
	for i := range is.SLAs {
		if is.SLAs[i].Name == name {
			return &is.SLAs[i]
		}
	}
	return nil
}
