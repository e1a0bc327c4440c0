package fakejira

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// jqlFixture is a small site: times are UTC instants; the API user is in
// America/New_York (UTC-5 in January), so "2026-01-10 10:00" means 15:00Z.
func jqlFixture() []*Issue {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	return []*Issue{
		{ID: 10001, Key: "IT-1", Project: "IT", StatusID: StatusResolved, Resolution: "Done", Created: at("2026-01-10T14:00:00Z"), Updated: at("2026-01-10T15:00:00Z")},
		{ID: 10002, Key: "IT-2", Project: "IT", StatusID: StatusInProgress, Created: at("2026-01-10T14:59:59Z"), Updated: at("2026-01-10T15:00:30Z")},
		{ID: 10003, Key: "HR-1", Project: "HR", StatusID: StatusOpen, Created: at("2026-01-09T05:00:00Z"), Updated: at("2026-01-10T04:59:00Z")},
		{ID: 10004, Key: "HR-2", Project: "HR", StatusID: StatusClosed, Resolution: "Done", Created: at("2026-01-09T06:00:00Z"), Updated: at("2026-01-10T05:00:00Z")},
		{ID: 10005, Key: "IT-10", Project: "IT", StatusID: StatusWaitingForSupport, Created: at("2026-01-11T00:00:00Z"), Updated: at("2026-01-11T00:00:00Z")},
	}
}

func runJQL(t *testing.T, jql string) ([]string, error) {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	q, err := parseJQL(jql, jqlEnv{loc: ny, projects: map[string]string{"IT": "IT", "HR": "HR", "10001": "HR"}})
	if err != nil {
		return nil, err
	}
	var matched []*Issue
	for _, is := range jqlFixture() {
		if q.where == nil || q.where(is) {
			matched = append(matched, is)
		}
	}
	sortIssues(matched, q.order)
	keys := make([]string, 0, len(matched))
	for _, is := range matched {
		keys = append(keys, is.Key)
	}
	return keys, nil
}

func TestJQLMatchesAndOrders(t *testing.T) {
	tests := []struct {
		jql  string
		want []string
	}{
		// Time zone: 10:00 in New York is 15:00Z; IT-1 was updated exactly then.
		{`updated >= "2026-01-10 10:00" ORDER BY id ASC`, []string{"IT-1", "IT-2", "IT-10"}},
		{`updated > "2026-01-10 10:00" ORDER BY id ASC`, []string{"IT-2", "IT-10"}},
		{`updated = "2026/01/10 10:00"`, []string{"IT-1"}},
		{`updated < "2026-01-10 10:00" ORDER BY id`, []string{"HR-1", "HR-2"}},
		// A date alone is midnight in the user's zone: 05:00Z.
		{`updated >= "2026-01-10" ORDER BY id`, []string{"IT-1", "IT-2", "HR-2", "IT-10"}},
		{`updated <= '2026/01/10' ORDER BY id`, []string{"HR-1", "HR-2"}},
		{`updated < '2026/01/10' ORDER BY id`, []string{"HR-1"}},
		{`created >= "2026-01-10 09:59" AND created < "2026-01-10 10:00" ORDER BY id`, []string{"IT-2"}},
		{`statusCategory = Done ORDER BY id`, []string{"IT-1", "HR-2"}},
		{`statusCategory != Done ORDER BY id`, []string{"IT-2", "HR-1", "IT-10"}},
		{`statusCategory in ("To Do", indeterminate) ORDER BY id`, []string{"IT-2", "HR-1", "IT-10"}},
		{`statuscategory = 3 order by id`, []string{"IT-1", "HR-2"}},
		{`resolution = Unresolved ORDER BY id`, []string{"IT-2", "HR-1", "IT-10"}},
		{`resolution is EMPTY ORDER BY id`, []string{"IT-2", "HR-1", "IT-10"}},
		{`resolution is not EMPTY ORDER BY id`, []string{"IT-1", "HR-2"}},
		{`id > 10002 ORDER BY id`, []string{"HR-1", "HR-2", "IT-10"}},
		{`id >= 10002 AND id <= 10003 ORDER BY id DESC`, []string{"HR-1", "IT-2"}},
		{`id < 10002`, []string{"IT-1"}},
		{`id = 10004`, []string{"HR-2"}},
		{`project = it ORDER BY key ASC`, []string{"IT-1", "IT-2", "IT-10"}},
		{`project = 10001 ORDER BY key`, []string{"HR-1", "HR-2"}},
		{`project in (HR, "IT") ORDER BY key`, []string{"HR-1", "HR-2", "IT-1", "IT-2", "IT-10"}},
		{`project not in (HR)`, []string{"IT-10", "IT-2", "IT-1"}},
		{`project = IT OR project = HR AND statusCategory = Done ORDER BY id`, []string{"IT-1", "IT-2", "HR-2", "IT-10"}},
		{`(project = IT OR project = HR) AND statusCategory = Done ORDER BY id`, []string{"IT-1", "HR-2"}},
		{`NOT project = IT ORDER BY id`, []string{"HR-1", "HR-2"}},
		{`project = IT AND NOT (statusCategory = Done OR id > 10004) ORDER BY id`, []string{"IT-2"}},
		{`((project = HR)) AND ((resolution = Unresolved))`, []string{"HR-1"}},
		{`project in (IT, HR) AND (updated >= "2026-01-10 00:00" OR statusCategory != Done) ORDER BY updated ASC, key ASC`, []string{"HR-1", "HR-2", "IT-1", "IT-2", "IT-10"}},
		{`project in (IT, HR) ORDER BY updated DESC, id ASC`, []string{"IT-10", "IT-2", "IT-1", "HR-2", "HR-1"}},
		{`ORDER BY created ASC`, []string{"HR-1", "HR-2", "IT-1", "IT-2", "IT-10"}},
		{``, []string{"IT-10", "IT-2", "IT-1", "HR-2", "HR-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.jql, func(t *testing.T) {
			got, err := runJQL(t, tt.jql)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestJQLRejectsWhatJiraWouldReject(t *testing.T) {
	tests := []struct {
		jql     string
		message string
	}{
		{`summary ~ "printer"`, "The character '~' is a reserved JQL character"},
		{`statusCategory = Done()`, "Expecting end of query but got '('"},
		{`labels = x`, "Field 'labels' does not exist"},
		{`updated >= -5d`, "Date value '-5d' for field 'updated' is invalid"},
		{`updated >= "2026-13-01"`, "Date value '2026-13-01'"},
		{`updated >= "2026-01-10 10:00:30"`, "Date value"},
		{`updated in ("2026-01-10")`, "operator 'in' is not supported"},
		{`project = NOPE`, "The value 'NOPE' does not exist for the field 'project'"},
		{`statusCategory = Finished`, "The value 'Finished' does not exist for the field 'statusCategory'"},
		{`resolution = Fixed`, "The value 'Fixed' does not exist for the field 'resolution'"},
		{`id != 4`, "operator '!=' is not supported"},
		{`id > abc`, "invalid"},
		{`project = IT AND`, "reached the end of the query"},
		{`(project = IT`, "Expecting ')'"},
		{`project = IT)`, "Expecting end of query but got ')'"},
		{`project IT`, "Expecting operator but got 'IT'"},
		{`project = IT ORDER BY priority`, "Not able to sort using field 'priority'"},
		{`project = IT ORDER updated`, "Expecting 'by'"},
		{`updated >= "2026-01-10`, "has not been completed"},
		{`project != IT OR status = Open`, "Field 'status' does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.jql, func(t *testing.T) {
			_, err := runJQL(t, tt.jql)
			if err == nil {
				t.Fatal("accepted; Jira would answer 400")
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err, tt.message)
			}
		})
	}
}
