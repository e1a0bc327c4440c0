package rtserver

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// A Timeline moves data made through REST2 and the mail gateway, which RT
// stamps "now", into the past: tickets older than a horizon, minutes to
// days between a ticket's events.
//
// Work is done in steps. In each step every ticket gets at most one
// action (a create, a reply, a reply that resolves, a rating, a mail...),
// and At records when that action should have happened. Every transaction
// RT records during a step belongs to the action of its ticket in that
// step, automatic ones included (an autoreply's EmailRecord, a reopen's
// Status change), so it takes that action's time, as it would have had
// the action really happened then. Apply then rewrites the SQLite
// database while the server runs (RT flushes its record cache per
// request, so the next REST2 answer shows the new times):
//
//   - Transactions.Created of every ticket transaction; Attachments.Created
//     of their attachments.
//   - Tickets.Created, Started, Told, Resolved and LastUpdated, derived as
//     RT derives them (RT::Ticket::Create, _SetStatus, Correspond,
//     RT::Record::_NewTransaction): Created from the Create transaction;
//     Started from the first Status change out of an initial status (or
//     Create in a non-initial one); Resolved from the last Status change
//     into an inactive status (RT never clears it on reopen); Told from the
//     last Correspond by a user who is not a requestor; LastUpdated from
//     the last transaction. Each rule is checked against the times RT
//     wrote before anything moves: a column RT set that the rule cannot
//     explain, within a second's rounding, fails the test.
//   - ObjectCustomFieldValues.Created and LastUpdated from the CustomField
//     transactions that added and replaced them.
//   - The ticket's role groups (Requestor, Cc, AdminCc, Owner) and their
//     memberships: Groups and GroupMembers Created/LastUpdated from the
//     ticket's creation.
//   - Everything else made since NewTimeline — users (also those the mail
//     gateway creates), queues, group memberships and their non-ticket
//     transactions — moves to the epoch given to NewTimeline.
//
// Finally transaction ids are renumbered among themselves in time order,
// as RT's own ids are: the ticket transactions of the window are sorted by
// (new Created, old id) and given the window's ids in that order, with
// Attachments.TransactionId and transaction attributes and custom field
// values following. Ticket ids are not renumbered: create tickets in the
// order of their planned creation.
type Timeline struct {
	srv   *Server
	epoch time.Time

	firstTxn, firstUser, firstQueue, firstGroup, firstMember int
	bounds                                                   []int // bounds[k]: last transaction id before step k
	at                                                       []map[int]time.Time
	applied                                                  bool
}

// NewTimeline starts a timeline; records created from now on that no step
// times are moved to epoch.
func (s *Server) NewTimeline(t testing.TB, epoch time.Time) *Timeline {
	t.Helper()
	tl := &Timeline{
		srv:         s,
		epoch:       epoch.UTC().Truncate(time.Second),
		firstTxn:    s.maxID(t, "Transactions") + 1,
		firstUser:   s.maxID(t, "Users") + 1,
		firstQueue:  s.maxID(t, "Queues") + 1,
		firstGroup:  s.maxID(t, "Groups") + 1,
		firstMember: s.maxID(t, "GroupMembers") + 1,
	}
	return tl
}

// Step begins the next step.
func (tl *Timeline) Step(t testing.TB) {
	t.Helper()
	if tl.applied {
		t.Fatal("timeline already applied")
	}
	tl.bounds = append(tl.bounds, tl.srv.maxID(t, "Transactions"))
	tl.at = append(tl.at, map[int]time.Time{})
}

// At records when this step's action on the ticket happened.
func (tl *Timeline) At(t testing.TB, ticket int, when time.Time) {
	t.Helper()
	if len(tl.at) == 0 {
		t.Fatal("Timeline.At before the first Step")
	}
	step := tl.at[len(tl.at)-1]
	if _, dup := step[ticket]; dup {
		t.Fatalf("ticket %d has two actions in step %d", ticket, len(tl.at)-1)
	}
	step[ticket] = when.UTC().Truncate(time.Second)
}

// TicketTimes are a ticket's times after Apply; zero when unset.
type TicketTimes struct {
	Created, Started, Told, Resolved, LastUpdated time.Time
}

// Backdated is what Apply wrote: ticket times, and every ticket
// transaction's time by its new id.
type Backdated struct {
	Tickets      map[int]TicketTimes
	Transactions map[int]time.Time
	// Renumbered maps old transaction ids to new ones.
	Renumbered map[int]int
}

type txnRow struct {
	ID         int     `json:"id"`
	ObjectType string  `json:"ObjectType"`
	ObjectID   int     `json:"ObjectId"`
	Type       string  `json:"Type"`
	Field      *string `json:"Field"`
	OldValue   *string `json:"OldValue"`
	NewValue   *string `json:"NewValue"`
	Creator    int     `json:"Creator"`
	Created    string  `json:"Created"`
	OldRef     *int    `json:"OldReference"`
	NewRef     *int    `json:"NewReference"`
	RefType    *string `json:"ReferenceType"`

	planned time.Time
}

type ticketRow struct {
	ID          int    `json:"id"`
	Status      string `json:"Status"`
	Lifecycle   string `json:"Lifecycle"`
	Created     string `json:"Created"`
	Started     string `json:"Started"`
	Told        string `json:"Told"` // "" for NULL
	Resolved    string `json:"Resolved"`
	LastUpdated string `json:"LastUpdated"`
}

// Apply rewrites the database; the timeline cannot be used afterwards.
func (tl *Timeline) Apply(t testing.TB) Backdated {
	t.Helper()
	if tl.applied {
		t.Fatal("timeline already applied")
	}
	tl.applied = true
	s := tl.srv
	last := s.maxID(t, "Transactions")
	now := time.Now().UTC()

	var txns []txnRow
	s.query(t, fmt.Sprintf(`SELECT id, ObjectType, ObjectId, Type, Field, OldValue, NewValue, Creator, Created,
		OldReference, NewReference, ReferenceType FROM Transactions WHERE id BETWEEN %d AND %d ORDER BY id`,
		tl.firstTxn, last), &txns)

	byTicket := map[int][]*txnRow{}
	for i := range txns {
		x := &txns[i]
		if x.ObjectType != "RT::Ticket" {
			x.planned = tl.epoch
			continue
		}
		step := sort.SearchInts(tl.bounds, x.ID) - 1 // bounds[step] < id <= bounds[step+1]
		if step < 0 {
			t.Fatalf("transaction %d (%s on ticket %d) happened before the first step", x.ID, x.Type, x.ObjectID)
		}
		when, ok := tl.at[step][x.ObjectID]
		if !ok {
			t.Fatalf("transaction %d (%s on ticket %d) in step %d, which planned no action on that ticket",
				x.ID, x.Type, x.ObjectID, step)
		}
		if when.Before(tl.epoch) || when.After(now) {
			t.Fatalf("ticket %d step %d planned at %v, outside [%v, now]", x.ObjectID, step, when, tl.epoch)
		}
		x.planned = when
		byTicket[x.ObjectID] = append(byTicket[x.ObjectID], x)
	}
	ticketIDs := make([]int, 0, len(byTicket))
	for id := range byTicket {
		ticketIDs = append(ticketIDs, id)
	}
	slices.Sort(ticketIDs)

	var statements []string
	result := Backdated{Tickets: map[int]TicketTimes{}, Transactions: map[int]time.Time{}, Renumbered: map[int]int{}}
	if len(ticketIDs) > 0 {
		statements = append(statements, tl.ticketStatements(t, ticketIDs, byTicket, result.Tickets)...)
	}
	statements = append(statements, tl.setupStatements()...)
	statements = append(statements, transactionStatements(txns, tl.firstTxn, last, &result)...)
	s.exec(t, statements)
	return result
}

func (tl *Timeline) ticketStatements(t testing.TB, ids []int, byTicket map[int][]*txnRow, out map[int]TicketTimes) []string {
	t.Helper()
	s := tl.srv
	var tickets []ticketRow
	s.query(t, `SELECT Tickets.id, Status, Queues.Lifecycle, Tickets.Created, Started, Told, Resolved, Tickets.LastUpdated
		FROM Tickets JOIN Queues ON Queues.id = Tickets.Queue WHERE Tickets.id IN (`+idList(ids)+`)`, &tickets)
	var members []struct {
		Ticket int `json:"Ticket"`
		User   int `json:"User"`
	}
	s.query(t, `SELECT Groups.Instance AS Ticket, GroupMembers.MemberId AS User FROM Groups
		JOIN GroupMembers ON GroupMembers.GroupId = Groups.id
		WHERE Groups.Domain = 'RT::Ticket-Role' AND Groups.Name = 'Requestor' AND Groups.Instance IN (`+idList(ids)+`)`, &members)
	requestors := map[int]map[int]bool{}
	for _, m := range members {
		if requestors[m.Ticket] == nil {
			requestors[m.Ticket] = map[int]bool{}
		}
		requestors[m.Ticket][m.User] = true
	}
	if len(tickets) != len(ids) {
		t.Fatalf("backdate: %d of %d tickets found", len(tickets), len(ids))
	}

	var statements []string
	for _, tk := range tickets {
		lc := tl.lifecycle(t, tk.Lifecycle)
		times, err := deriveTicketTimes(t, tk, byTicket[tk.ID], lc, requestors[tk.ID])
		if err != nil {
			t.Fatalf("backdate ticket %d: %v", tk.ID, err)
		}
		out[tk.ID] = times
		statements = append(statements, fmt.Sprintf(
			"UPDATE Tickets SET Created = %s, Started = %s, Told = %s, Resolved = %s, LastUpdated = %s WHERE id = %d",
			sqlTimeLiteral(times.Created), optionalTime(times.Started, tk.Started), optionalTime(times.Told, tk.Told),
			optionalTime(times.Resolved, tk.Resolved), sqlTimeLiteral(times.LastUpdated), tk.ID))
		// Role groups and their members exist from the ticket's creation.
		statements = append(statements,
			fmt.Sprintf("UPDATE Groups SET Created = %[1]s, LastUpdated = %[1]s WHERE Domain = 'RT::Ticket-Role' AND Instance = %[2]d",
				sqlTimeLiteral(times.Created), tk.ID),
			fmt.Sprintf(`UPDATE GroupMembers SET Created = %[1]s, LastUpdated = %[1]s WHERE GroupId IN
				(SELECT id FROM Groups WHERE Domain = 'RT::Ticket-Role' AND Instance = %[2]d)`,
				sqlTimeLiteral(times.Created), tk.ID))
		statements = append(statements, customFieldValueStatements(byTicket[tk.ID])...)
	}
	tl.checkRoleMembers(t, ids, out)
	return statements
}

// checkRoleMembers fails when a ticket's role membership changed after
// its creation: the backdating gives memberships the creation time only.
func (tl *Timeline) checkRoleMembers(t testing.TB, ids []int, _ map[int]TicketTimes) {
	t.Helper()
	var rows []struct {
		Ticket  int    `json:"Ticket"`
		Created string `json:"Created"`
		Ticket2 string `json:"TicketCreated"`
	}
	tl.srv.query(t, `SELECT Groups.Instance AS Ticket, GroupMembers.LastUpdated AS Created, Tickets.Created AS TicketCreated
		FROM Groups JOIN GroupMembers ON GroupMembers.GroupId = Groups.id JOIN Tickets ON Tickets.id = Groups.Instance
		WHERE Groups.Domain = 'RT::Ticket-Role' AND Groups.Instance IN (`+idList(ids)+`)`, &rows)
	for _, r := range rows {
		if d := parseSQLTime(t, r.Created).Sub(parseSQLTime(t, r.Ticket2)); d > 2*time.Second || d < -2*time.Second {
			t.Fatalf("backdate ticket %d: a role membership changed %v after creation; only creation-time watchers are supported", r.Ticket, d)
		}
	}
}

// optionalTime renders a derived time, or keeps an unset column as RT
// left it: NULL or 1970-01-01 00:00:00, RT writes both.
func optionalTime(tm time.Time, original string) string {
	if !tm.IsZero() {
		return sqlTimeLiteral(tm)
	}
	if original == "" {
		return "NULL"
	}
	return sqlLiteral(original)
}

func isUnset(column string) bool { return column == "" || column == unsetTime }

type lifecycleSets struct{ initial, inactive map[string]bool }

// lifecycle returns a lifecycle's initial and inactive statuses: RT's
// default one, or one from Options.Lifecycles.
func (tl *Timeline) lifecycle(t testing.TB, name string) lifecycleSets {
	t.Helper()
	set := func(xs ...string) map[string]bool {
		m := map[string]bool{}
		for _, x := range xs {
			m[strings.ToLower(x)] = true
		}
		return m
	}
	if name == "" || name == "default" {
		return lifecycleSets{initial: set("new"), inactive: set("resolved", "rejected", "deleted")}
	}
	for _, lc := range tl.srv.lifecycles {
		if lc.Name == name {
			return lifecycleSets{initial: set(lc.Initial...), inactive: set(lc.Inactive...)}
		}
	}
	t.Fatalf("backdate: unknown lifecycle %q", name)
	return lifecycleSets{}
}

// deriveTicketTimes applies RT's rules for a ticket's date columns to its
// transactions' planned times, after checking each rule reproduces the
// times RT actually wrote.
func deriveTicketTimes(t testing.TB, tk ticketRow, txns []*txnRow, lc lifecycleSets, requestors map[int]bool) (TicketTimes, error) {
	var create, started, told, resolved, lastTxn *txnRow
	for _, x := range txns {
		lastTxn = x
		switch x.Type {
		case "Create":
			create = x
		case "Status":
			old, nw := deref(x.OldValue), deref(x.NewValue)
			if started == nil && lc.initial[old] && !lc.initial[nw] {
				started = x
			}
			if lc.inactive[nw] {
				resolved = x
			}
		case "Correspond":
			if !requestors[x.Creator] {
				told = x
			}
		}
	}
	if create == nil {
		return TicketTimes{}, fmt.Errorf("its Create transaction is not in the timeline (create tickets after NewTimeline)")
	}
	if started == nil && !isUnset(tk.Started) {
		started = create // created in a non-initial status
	}
	if resolved == nil && !isUnset(tk.Resolved) {
		resolved = create // created in an inactive status
	}
	check := func(column, actual string, x *txnRow) error {
		if isUnset(actual) != (x == nil) {
			return fmt.Errorf("%s is %q in RT but the rule found %v", column, actual, x != nil)
		}
		if x == nil {
			return nil
		}
		d := parseSQLTime(t, actual).Sub(parseSQLTime(t, x.Created))
		if d < -2*time.Second || d > 2*time.Second {
			return fmt.Errorf("%s is %s in RT but the rule picked transaction %d (%s) of %s", column, actual, x.ID, x.Type, x.Created)
		}
		return nil
	}
	for _, c := range []struct {
		column, actual string
		x              *txnRow
	}{
		{"Created", tk.Created, create}, {"Started", tk.Started, started}, {"Told", tk.Told, told},
		{"Resolved", tk.Resolved, resolved}, {"LastUpdated", tk.LastUpdated, lastTxn},
	} {
		if err := check(c.column, c.actual, c.x); err != nil {
			return TicketTimes{}, err
		}
	}
	at := func(x *txnRow) time.Time {
		if x == nil {
			return time.Time{}
		}
		return x.planned
	}
	times := TicketTimes{Created: at(create), Started: at(started), Told: at(told), Resolved: at(resolved)}
	for _, x := range txns {
		if x.planned.After(times.LastUpdated) {
			times.LastUpdated = x.planned
		}
		if x.planned.Before(times.Created) {
			return TicketTimes{}, fmt.Errorf("transaction %d (%s) planned at %v, before the ticket's creation at %v",
				x.ID, x.Type, x.planned, times.Created)
		}
	}
	return times, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return strings.ToLower(*s)
}

// customFieldValueStatements dates custom field values by the
// transactions that added (NewReference) and replaced (OldReference) them.
func customFieldValueStatements(txns []*txnRow) []string {
	var statements []string
	for _, x := range txns {
		if x.Type != "CustomField" || deref(x.RefType) != "rt::objectcustomfieldvalue" {
			continue
		}
		if x.NewRef != nil {
			statements = append(statements, fmt.Sprintf("UPDATE ObjectCustomFieldValues SET Created = %[1]s, LastUpdated = %[1]s WHERE id = %[2]d",
				sqlTimeLiteral(x.planned), *x.NewRef))
		}
		if x.OldRef != nil {
			statements = append(statements, fmt.Sprintf("UPDATE ObjectCustomFieldValues SET LastUpdated = %s WHERE id = %d",
				sqlTimeLiteral(x.planned), *x.OldRef))
		}
	}
	return statements
}

// setupStatements move what was made around the tickets to the epoch.
func (tl *Timeline) setupStatements() []string {
	epoch := sqlTimeLiteral(tl.epoch)
	return []string{
		fmt.Sprintf("UPDATE Users SET Created = %[1]s, LastUpdated = %[1]s WHERE id >= %[2]d", epoch, tl.firstUser),
		fmt.Sprintf("UPDATE Queues SET Created = %[1]s, LastUpdated = %[1]s WHERE id >= %[2]d", epoch, tl.firstQueue),
		fmt.Sprintf("UPDATE Groups SET Created = %[1]s, LastUpdated = %[1]s WHERE id >= %[2]d AND Domain != 'RT::Ticket-Role'", epoch, tl.firstGroup),
		fmt.Sprintf(`UPDATE GroupMembers SET Created = %[1]s, LastUpdated = %[1]s WHERE id >= %[2]d AND GroupId NOT IN
			(SELECT id FROM Groups WHERE Domain = 'RT::Ticket-Role')`, epoch, tl.firstMember),
	}
}

// transactionStatements date the window's transactions and their
// attachments, and give the transactions the window's ids again in time
// order, through a mapping table: first to negative ids, as id is the
// primary key and every row is checked as it changes.
func transactionStatements(txns []txnRow, first, last int, result *Backdated) []string {
	if len(txns) == 0 {
		return nil
	}
	order := make([]*txnRow, len(txns))
	ids := make([]int, len(txns))
	for i := range txns {
		order[i] = &txns[i]
		ids[i] = txns[i].ID
	}
	sort.SliceStable(order, func(i, j int) bool {
		if !order[i].planned.Equal(order[j].planned) {
			return order[i].planned.Before(order[j].planned)
		}
		return order[i].ID < order[j].ID
	})
	statements := []string{"CREATE TEMP TABLE retime (old INTEGER PRIMARY KEY, new INTEGER NOT NULL, created TEXT NOT NULL)"}
	var values []string
	for i, x := range order {
		newID := ids[i] // ids ascend: the i-th earliest takes the i-th id
		result.Renumbered[x.ID] = newID
		if x.ObjectType == "RT::Ticket" {
			result.Transactions[newID] = x.planned
		}
		values = append(values, fmt.Sprintf("(%d, %d, %s)", x.ID, newID, sqlTimeLiteral(x.planned)))
		if len(values) == 500 || i == len(order)-1 {
			statements = append(statements, "INSERT INTO retime (old, new, created) VALUES "+strings.Join(values, ", "))
			values = values[:0]
		}
	}
	window := fmt.Sprintf("BETWEEN %d AND %d", first, last)
	statements = append(statements,
		"UPDATE Transactions SET Created = (SELECT created FROM retime WHERE old = Transactions.id) WHERE id "+window,
		"UPDATE Attachments SET Created = (SELECT created FROM retime WHERE old = Attachments.TransactionId) WHERE TransactionId "+window,
		"UPDATE Transactions SET id = -id WHERE id "+window,
		"UPDATE Transactions SET id = (SELECT new FROM retime WHERE old = -Transactions.id) WHERE id < 0",
		"UPDATE Attachments SET TransactionId = (SELECT new FROM retime WHERE old = Attachments.TransactionId) WHERE TransactionId "+window,
		"UPDATE Attributes SET ObjectId = (SELECT new FROM retime WHERE old = Attributes.ObjectId) WHERE ObjectType = 'RT::Transaction' AND ObjectId "+window,
		"UPDATE ObjectCustomFieldValues SET ObjectId = (SELECT new FROM retime WHERE old = ObjectCustomFieldValues.ObjectId) WHERE ObjectType = 'RT::Transaction' AND ObjectId "+window,
		"DROP TABLE retime",
	)
	return statements
}
