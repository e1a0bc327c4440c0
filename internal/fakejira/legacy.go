package fakejira

import (
	"fmt"
	"time"
)

// Well-known ids of RetiredStatuses.
const (
	RetiredResolved = "5"     // done; "Resolved" is still a status name of the site
	RetiredToDo     = "10000" // new
	RetiredBacklog  = "10013" // new
	RetiredDone     = "10020" // done
	RetiredFinished = "10021" // done
)

// RetiredStatuses are the statuses of a workflow the site migrated away
// from (or deleted): old histories still name them, with the names they
// had, but /rest/api/2/status no longer lists them, as seen on real Cloud
// sites (ids 5, 10000, 10020). Issues reach them only through Add, e.g.
// from MigratedIssues; Truth knows their categories.
var RetiredStatuses = []Status{
	{RetiredResolved, "Resolved", CategoryDone},
	{RetiredToDo, "To Do", CategoryNew},
	{RetiredBacklog, "Backlog", CategoryNew},
	{RetiredDone, "Done", CategoryDone},
	{RetiredFinished, "Finished", CategoryDone},
}

// MigratedIssues are three issues of project created from start on, whose
// early history ran in an old workflow (RetiredStatuses) before the site
// moved them to its current one, as Jira's workflow migration does: it
// rewrites the current status and leaves the old histories as they were.
//
//   - -1: Backlog → To Do, resolved to Done, reopened to To Do, resolved
//     to Resolved (id 5), then migrated to Closed.
//   - -2: Waiting for support → In Progress, then Finished with the
//     resolution set by the old workflow without a changelog item (only
//     the resolution date tells), then migrated to Closed.
//   - -3: Closed → To Do reopened (resolution cleared), then In Progress
//     and Resolved in the current workflow.
//
// They have no comments and no SLAs; every change is days apart.
func MigratedIssues(project string, start time.Time) []Issue {
	day := func(d int, h int) time.Time {
		return start.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour)
	}
	status := func(from, to string) HistoryItem {
		fromStatus, _ := statusEver(from)
		toStatus, _ := statusEver(to)
		return HistoryItem{Field: "status", From: from, FromString: fromStatus.Name, To: to, ToString: toStatus.Name}
	}
	set := HistoryItem{Field: "resolution", To: "10000", ToString: "Done"}
	cleared := HistoryItem{Field: "resolution", From: "10000", FromString: "Done"}
	migration := day(200, 0)
	reporter := func(n int) User {
		return User{AccountID: fmt.Sprintf("qm:legacy-%s-%d", project, n), DisplayName: fmt.Sprintf("Customer %s-legacy-%d", project, n), Role: RoleCustomer}
	}
	return []Issue{
		{
			Project: project, Reporter: reporter(1), Created: day(0, 0), Updated: migration, StatusID: StatusClosed,
			Resolution: "Done", ResolutionDate: day(3, 4),
			Histories: []History{
				{At: day(0, 1), Author: DefaultAgent, Items: []HistoryItem{status(RetiredBacklog, RetiredToDo)}},
				{At: day(1, 2), Author: DefaultAgent, Items: []HistoryItem{status(RetiredToDo, RetiredDone), set}},
				{At: day(2, 3), Author: DefaultAgent, Items: []HistoryItem{status(RetiredDone, RetiredToDo), cleared}},
				{At: day(3, 4), Author: DefaultAgent, Items: []HistoryItem{status(RetiredToDo, RetiredResolved), set}},
				{At: migration, Author: DefaultAutomation, Items: []HistoryItem{status(RetiredResolved, StatusClosed)}},
			},
		},
		{
			Project: project, Reporter: reporter(2), Created: day(10, 0), Updated: migration, StatusID: StatusClosed,
			Resolution: "Done", ResolutionDate: day(11, 6),
			Histories: []History{
				{At: day(10, 1), Author: DefaultAgent, Items: []HistoryItem{status(StatusWaitingForSupport, StatusInProgress)}},
				{At: day(11, 6), Author: DefaultAgent, Items: []HistoryItem{status(StatusInProgress, RetiredFinished)}},
				{At: migration, Author: DefaultAutomation, Items: []HistoryItem{status(RetiredFinished, StatusClosed)}},
			},
		},
		{
			Project: project, Reporter: reporter(3), Created: day(20, 0), Updated: day(23, 5), StatusID: StatusResolved,
			Resolution: "Done", ResolutionDate: day(23, 5),
			Histories: []History{
				{At: day(20, 2), Author: DefaultAgent, Items: []HistoryItem{status(StatusWaitingForSupport, StatusClosed), set}},
				{At: day(21, 3), Author: reporter(3), Items: []HistoryItem{status(StatusClosed, RetiredToDo), cleared}},
				{At: day(22, 4), Author: DefaultAgent, Items: []HistoryItem{status(RetiredToDo, StatusInProgress)}},
				{At: day(23, 5), Author: DefaultAgent, Items: []HistoryItem{status(StatusInProgress, StatusResolved), set}},
			},
		},
	}
}
