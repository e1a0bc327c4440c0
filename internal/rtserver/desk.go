package rtserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bulkChunk is how many records go into one REST2 bulk request.
const bulkChunk = 100

// QueueSpec describes a queue to create.
type QueueSpec struct {
	Name string
	// Lifecycle is a lifecycle name: "" for RT's default, or one of
	// Options.Lifecycles.
	Lifecycle string
}

// Queue is a created queue.
type Queue struct {
	ID                int
	Name              string
	Lifecycle         string
	CorrespondAddress string
}

// CreateQueue creates a queue through REST2 as root.
func (s *Server) CreateQueue(t testing.TB, spec QueueSpec) Queue {
	t.Helper()
	slug := strings.ToLower(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, spec.Name))
	q := Queue{Name: spec.Name, Lifecycle: spec.Lifecycle, CorrespondAddress: slug + "@" + Rtname}
	if q.Lifecycle == "" {
		q.Lifecycle = "default"
	}
	body := map[string]any{
		"Name":              spec.Name,
		"Description":       spec.Name + " desk",
		"CorrespondAddress": q.CorrespondAddress,
		"CommentAddress":    slug + "-comment@" + Rtname,
		"Lifecycle":         q.Lifecycle,
	}
	var created struct {
		ID string `json:"id"`
	}
	s.Call(t, s.Root, http.MethodPost, "/queue", body, &created)
	q.ID = atoi(t, created.ID)
	var got struct {
		Lifecycle string `json:"Lifecycle"`
	}
	s.Call(t, s.Root, http.MethodGet, "/queue/"+created.ID, nil, &got)
	if got.Lifecycle != q.Lifecycle {
		t.Fatalf("queue %s has lifecycle %q, want %q (is it in Options.Lifecycles?)", spec.Name, got.Lifecycle, q.Lifecycle)
	}
	s.queues[q.Name] = q
	return q
}

// EnableAutoreply applies RT's "On Create Autoreply To Requestors" scrip
// to the queues: their new tickets get an EmailRecord transaction by
// RT_System. One Perl run for all of them (about a second).
func (s *Server) EnableAutoreply(t testing.TB, queues ...Queue) {
	t.Helper()
	if len(queues) == 0 {
		return
	}
	ids := make([]string, len(queues))
	for i, q := range queues {
		ids[i] = strconv.Itoa(q.ID)
	}
	s.RunPerl(t, `
my $scrip = RT::Scrip->new(RT->SystemUser);
my ($found) = $scrip->LoadByCols(Description => 'On Create Autoreply To Requestors');
die "no autoreply scrip" unless $scrip->id;
for my $queue (`+strings.Join(ids, ", ")+`) {
    my ($ok, $msg) = $scrip->AddToObject($queue);
    die "apply autoreply to queue $queue: $msg" unless $ok;
}`)
}

// UserSpec describes a user to create.
type UserSpec struct {
	Name         string
	EmailAddress string
	RealName     string
	// Privileged users see RT's staff interface; customers are not.
	Privileged bool
	// Agent adds the user to the Agents group (and makes it privileged).
	Agent bool
	// Groups are further user-defined groups to join.
	Groups []string
}

// User is a created user. Password is what basic auth takes.
type User struct {
	ID           int
	Name         string
	EmailAddress string
	RealName     string
	Privileged   bool
	Password     string
}

// Credentials authenticate as this user by basic auth.
func (u User) Credentials() Credentials {
	return Credentials{User: u.Name, Password: u.Password}
}

// CreateUser creates a user through REST2 as root, with the password
// name + "-password", and adds it to its groups.
func (s *Server) CreateUser(t testing.TB, spec UserSpec) User {
	t.Helper()
	u := User{
		Name: spec.Name, EmailAddress: spec.EmailAddress, RealName: spec.RealName,
		Privileged: spec.Privileged || spec.Agent, Password: spec.Name + "-password",
	}
	body := map[string]any{
		"Name": u.Name, "EmailAddress": u.EmailAddress, "RealName": u.RealName,
		"Password": u.Password, "Privileged": boolInt(u.Privileged),
	}
	s.Call(t, s.Root, http.MethodPost, "/user", body, nil)
	var rows []struct {
		ID         int `json:"id"`
		Privileged int `json:"Privileged"`
	}
	// REST2 answered with the name; the id comes cheaper from the database.
	s.query(t, `SELECT Users.id, count(Groups.id) AS Privileged FROM Users
		LEFT JOIN GroupMembers ON GroupMembers.MemberId = Users.id
		LEFT JOIN Groups ON Groups.id = GroupMembers.GroupId AND Groups.Domain = 'SystemInternal' AND Groups.Name = 'Privileged'
		WHERE Users.Name = `+sqlLiteral(u.Name)+` GROUP BY Users.id`, &rows)
	if len(rows) != 1 || rows[0].Privileged != boolInt(u.Privileged) {
		t.Fatalf("user %s: found %+v, want one with Privileged %d", u.Name, rows, boolInt(u.Privileged))
	}
	u.ID = rows[0].ID
	groups := spec.Groups
	if spec.Agent {
		groups = append([]string{AgentsGroup}, groups...)
	}
	for _, g := range groups {
		id := s.AgentsGroupID
		if g != AgentsGroup {
			id = s.lookupGroup(t, g)
		}
		var msgs []string
		s.Call(t, s.Root, http.MethodPut, fmt.Sprintf("/group/%d/members", id), []int{u.ID}, &msgs)
		if len(msgs) != 1 || !strings.HasPrefix(msgs[0], "Member added") {
			t.Fatalf("add %s to %s: %v", u.Name, g, msgs)
		}
	}
	return u
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TicketSpec describes a ticket to create through REST2.
type TicketSpec struct {
	Queue      string
	Subject    string
	Requestors []string // user names or email addresses
	Content    string
	// Status is the status to create in; "" is the lifecycle's default.
	Status       string
	Owner        string
	CustomFields map[string]string
}

func (spec TicketSpec) body() map[string]any {
	b := map[string]any{
		"Queue": spec.Queue, "Subject": spec.Subject,
		"Content": spec.Content, "ContentType": "text/plain",
	}
	if len(spec.Requestors) > 0 {
		b["Requestor"] = spec.Requestors
	}
	if spec.Status != "" {
		b["Status"] = spec.Status
	}
	if spec.Owner != "" {
		b["Owner"] = spec.Owner
	}
	if len(spec.CustomFields) > 0 {
		b["CustomFields"] = spec.CustomFields
	}
	return b
}

// CreateTicket creates one ticket (POST /ticket) as the given user.
func (s *Server) CreateTicket(t testing.TB, as Credentials, spec TicketSpec) int {
	t.Helper()
	var created struct {
		ID string `json:"id"`
	}
	s.Call(t, as, http.MethodPost, "/ticket", spec.body(), &created)
	return atoi(t, created.ID)
}

// CreateTickets creates tickets in order through the bulk endpoint
// (POST /tickets/bulk, bulkChunk per request) and returns their ids.
func (s *Server) CreateTickets(t testing.TB, as Credentials, specs []TicketSpec) []int {
	t.Helper()
	ids := make([]int, 0, len(specs))
	for start := 0; start < len(specs); start += bulkChunk {
		chunk := specs[start:min(start+bulkChunk, len(specs))]
		bodies := make([]map[string]any, len(chunk))
		for i, spec := range chunk {
			bodies[i] = spec.body()
		}
		var results []struct {
			ID      string `json:"id"`
			Message string `json:"message"`
		}
		s.Call(t, as, http.MethodPost, "/tickets/bulk", bodies, &results)
		if len(results) != len(chunk) {
			t.Fatalf("bulk create: %d results for %d tickets", len(results), len(chunk))
		}
		for i, r := range results {
			if r.ID == "" {
				t.Fatalf("bulk create %q: %s", chunk[i].Subject, r.Message)
			}
			ids = append(ids, atoi(t, r.ID))
		}
	}
	return ids
}

// Message is a reply or comment on a ticket; Status, when set, changes
// the ticket's status in the same request (as "reply and resolve").
type Message struct {
	Ticket  int
	Content string
	Status  string
}

// Correspond replies to a ticket as the given user (POST /ticket/{id}/correspond).
func (s *Server) Correspond(t testing.TB, as Credentials, m Message) {
	t.Helper()
	s.message(t, as, "correspond", m)
}

// Comment adds an internal comment as the given user (POST /ticket/{id}/comment).
func (s *Server) Comment(t testing.TB, as Credentials, m Message) {
	t.Helper()
	s.message(t, as, "comment", m)
}

func (s *Server) message(t testing.TB, as Credentials, kind string, m Message) {
	t.Helper()
	var msgs []string
	s.Call(t, as, http.MethodPost, fmt.Sprintf("/ticket/%d/%s", m.Ticket, kind), m.body(), &msgs)
	if err := checkMessage(kind, m, msgs); err != nil {
		t.Fatalf("ticket %d as %s: %v", m.Ticket, as.User, err)
	}
}

// CorrespondBulk sends replies as one user through POST /tickets/bulk/correspond.
func (s *Server) CorrespondBulk(t testing.TB, as Credentials, msgs []Message) {
	t.Helper()
	s.messageBulk(t, as, "correspond", msgs)
}

// CommentBulk sends comments as one user through POST /tickets/bulk/comment.
func (s *Server) CommentBulk(t testing.TB, as Credentials, msgs []Message) {
	t.Helper()
	s.messageBulk(t, as, "comment", msgs)
}

func (s *Server) messageBulk(t testing.TB, as Credentials, kind string, messages []Message) {
	t.Helper()
	bodies := make([]map[string]any, len(messages))
	for i, m := range messages {
		bodies[i] = m.body()
		bodies[i]["id"] = m.Ticket
	}
	for i, answer := range s.bulk(t, as, http.MethodPost, "/tickets/bulk/"+kind, bodies) {
		if err := checkMessage(kind, messages[i], answer); err != nil {
			t.Fatalf("bulk %s on ticket %d as %s: %v", kind, messages[i].Ticket, as.User, err)
		}
	}
}

// bulk sends bodies to a bulk endpoint, bulkChunk per request, and returns
// each body's messages: RT answers a row [id, "message", ...] per body.
func (s *Server) bulk(t testing.TB, as Credentials, method, path string, bodies []map[string]any) [][]string {
	t.Helper()
	out := make([][]string, 0, len(bodies))
	for start := 0; start < len(bodies); start += bulkChunk {
		chunk := bodies[start:min(start+bulkChunk, len(bodies))]
		var rows [][]json.RawMessage
		s.Call(t, as, method, path, chunk, &rows)
		if len(rows) != len(chunk) {
			t.Fatalf("%s %s: %d results for %d bodies", method, path, len(rows), len(chunk))
		}
		for _, row := range rows {
			out = append(out, bulkMessages(row))
		}
	}
	return out
}

func (m Message) body() map[string]any {
	b := map[string]any{"Content": m.Content, "ContentType": "text/plain"}
	if m.Status != "" {
		b["Status"] = m.Status
	}
	return b
}

// bulkMessages turns a bulk result row [id, "message", ...] into its messages.
func bulkMessages(row []json.RawMessage) []string {
	var msgs []string
	for _, raw := range row[min(1, len(row)):] {
		var m string
		if json.Unmarshal(raw, &m) == nil {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// REST2 answers 200 or 201 whether or not a change happened, with RT's
// messages; success is read from those (RT's own TODO in Writable.pm).
func checkMessage(kind string, m Message, msgs []string) error {
	want := "Correspondence added"
	if kind == "comment" {
		want = "Comments added"
	}
	if len(msgs) == 0 || msgs[0] != want {
		return fmt.Errorf("%s: got %q, want %q first", kind, msgs, want)
	}
	if m.Status != "" && !hasStatusChange(msgs[1:], m.Status) {
		return fmt.Errorf("%s with status %s: got %q", kind, m.Status, msgs)
	}
	return nil
}

func hasStatusChange(msgs []string, status string) bool {
	for _, msg := range msgs {
		if strings.Contains(msg, "Status changed from '") && strings.HasSuffix(msg, " to '"+status+"'") {
			return true
		}
	}
	return false
}

// TicketUpdate changes a ticket's fields: Status and custom fields by name.
type TicketUpdate struct {
	Ticket       int
	Status       string
	CustomFields map[string]string
}

func (u TicketUpdate) body() map[string]any {
	b := map[string]any{}
	if u.Status != "" {
		b["Status"] = u.Status
	}
	if len(u.CustomFields) > 0 {
		b["CustomFields"] = u.CustomFields
	}
	return b
}

// UpdateTicket changes one ticket (PUT /ticket/{id}) as the given user.
func (s *Server) UpdateTicket(t testing.TB, as Credentials, u TicketUpdate) {
	t.Helper()
	var msgs []string
	s.Call(t, as, http.MethodPut, fmt.Sprintf("/ticket/%d", u.Ticket), u.body(), &msgs)
	if err := checkUpdate(u, msgs); err != nil {
		t.Fatalf("update ticket %d as %s: %v", u.Ticket, as.User, err)
	}
}

// SetStatus changes a ticket's status as the given user.
func (s *Server) SetStatus(t testing.TB, as Credentials, ticket int, status string) {
	t.Helper()
	s.UpdateTicket(t, as, TicketUpdate{Ticket: ticket, Status: status})
}

// SetCustomField sets a ticket custom field by name as the given user.
func (s *Server) SetCustomField(t testing.TB, as Credentials, ticket int, field, value string) {
	t.Helper()
	s.UpdateTicket(t, as, TicketUpdate{Ticket: ticket, CustomFields: map[string]string{field: value}})
}

// UpdateTickets changes tickets as one user through PUT /tickets/bulk.
func (s *Server) UpdateTickets(t testing.TB, as Credentials, updates []TicketUpdate) {
	t.Helper()
	bodies := make([]map[string]any, len(updates))
	for i, u := range updates {
		bodies[i] = u.body()
		bodies[i]["id"] = u.Ticket
	}
	for i, answer := range s.bulk(t, as, http.MethodPut, "/tickets/bulk", bodies) {
		if err := checkUpdate(updates[i], answer); err != nil {
			t.Fatalf("bulk update of ticket %d as %s: %v", updates[i].Ticket, as.User, err)
		}
	}
}

// checkUpdate wants one success message per change: "Ticket N: Status
// changed from 'a' to 'b'", "Satisfaction 4 added", "Satisfaction 4
// changed to 5".
func checkUpdate(u TicketUpdate, msgs []string) error {
	if u.Status != "" && !hasStatusChange(msgs, u.Status) {
		return fmt.Errorf("status %s: got %q", u.Status, msgs)
	}
	for field, value := range u.CustomFields {
		ok := false
		for _, msg := range msgs {
			if msg == field+" "+value+" added" ||
				strings.HasPrefix(msg, field+" ") && strings.HasSuffix(msg, " changed to "+value) {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("custom field %s=%s: got %q", field, value, msgs)
		}
	}
	return nil
}

// Mail is a customer's email to a queue's address.
type Mail struct {
	From     string // address
	FromName string
	Queue    string
	Subject  string
	Body     string
	// Ticket, when set, makes this a reply: the subject carries
	// "[rt.test #Ticket]" as RT's own mail does.
	Ticket int
}

// SendMail delivers a customer's email through rt-mailgate-5 --action
// correspond, as a mail transfer agent would, and returns the ticket it
// created or replied to. rt-mailgate-5 exits 0 even when RT refuses the
// mail, so the result is checked in the database.
func (s *Server) SendMail(t testing.TB, m Mail) int {
	t.Helper()
	subject := m.Subject
	if m.Ticket != 0 {
		subject = fmt.Sprintf("[%s #%d] %s", Rtname, m.Ticket, m.Subject)
	}
	from := m.From
	if m.FromName != "" {
		from = fmt.Sprintf("%s <%s>", m.FromName, m.From)
	}
	queue, ok := s.queues[m.Queue]
	if !ok {
		t.Fatalf("mail to queue %q, which CreateQueue did not create", m.Queue)
	}
	msg := fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: <%d.%s>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n",
		from, queue.CorrespondAddress, subject, time.Now().UTC().Format(time.RFC1123Z), time.Now().UnixNano(), m.From, m.Body)
	// Checked in the database: a REST2 round trip costs more than sqlite3.
	before := s.countCorrespondences(t, m.Ticket)
	lastTicket := s.maxID(t, "Tickets")
	if _, err := s.runCommand(time.Now().Add(commandLimit), []byte(msg), mailgate,
		"--url", s.URL+"/", "--queue", m.Queue, "--action", "correspond"); err != nil {
		t.Fatal(err)
	}
	if m.Ticket != 0 {
		if after := s.countCorrespondences(t, m.Ticket); after != before+1 {
			t.Fatalf("mail from %s to ticket %d was not recorded (%d correspondences before, %d after):\n%s",
				m.From, m.Ticket, before, after, tail(s.logPath, 10))
		}
		return m.Ticket
	}
	var rows []struct {
		ID int `json:"id"`
	}
	s.query(t, fmt.Sprintf(`SELECT Tickets.id FROM Tickets JOIN Groups ON Groups.Instance = Tickets.id
		AND Groups.Domain = 'RT::Ticket-Role' AND Groups.Name = 'Requestor'
		JOIN GroupMembers ON GroupMembers.GroupId = Groups.id JOIN Users ON Users.id = GroupMembers.MemberId
		WHERE Tickets.id > %d AND Tickets.Subject = %s AND Users.EmailAddress = %s`,
		lastTicket, sqlLiteral(m.Subject), sqlLiteral(m.From)), &rows)
	if len(rows) != 1 {
		t.Fatalf("mail from %s to %s created %d tickets, want 1:\n%s", m.From, m.Queue, len(rows), tail(s.logPath, 10))
	}
	return rows[0].ID
}

func (s *Server) countCorrespondences(t testing.TB, ticket int) int {
	t.Helper()
	if ticket == 0 {
		return 0
	}
	var rows []struct {
		N int `json:"n"`
	}
	s.query(t, fmt.Sprintf(`SELECT count(*) AS n FROM Transactions
		WHERE ObjectType = 'RT::Ticket' AND ObjectId = %d AND Type = 'Correspond'`, ticket), &rows)
	return rows[0].N
}
