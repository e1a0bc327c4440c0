package rt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// What REST2 answers, only the parts the source reads. See
// internal/rtserver/REST2.md for the shapes, with recorded samples.

// collection is one page of a REST2 collection. total is null when RT does
// not count (transactions for a non-superuser), so it is a pointer.
type collection struct {
	Count   int               `json:"count"`
	PerPage int               `json:"per_page"`
	Total   *int              `json:"total"`
	Items   []json.RawMessage `json:"items"`
}

// restID is an id as REST2 writes it: a string in collections ("4"), a
// number in records (4).
type restID int64

func (id *restID) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(bytes.TrimSpace(b), `"`))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("id %s is not a number", b)
	}
	*id = restID(n)
	return nil
}

// itemID reads the id of a collection item; 0 when it has none.
func itemID(raw json.RawMessage) int64 {
	var head struct {
		ID restID `json:"id"`
	}
	if json.Unmarshal(raw, &head) != nil || head.ID <= 0 {
		return 0
	}
	return int64(head.ID)
}

// itemIDs reads the ids of collection items, sorted, leaving out items
// without one.
func itemIDs(items []json.RawMessage) []int64 {
	ids := make([]int64, 0, len(items))
	for _, raw := range items {
		if id := itemID(raw); id > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// restNumber is a numeric column: REST2 writes columns as strings ("0")
// except a few computed ones; "" and null are unset.
type restNumber struct {
	Value int64
	Set   bool
}

func (n *restNumber) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(bytes.Trim(bytes.TrimSpace(b), `"`)))
	if s == "" || s == "null" {
		*n = restNumber{}
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%s is not a whole number", b)
	}
	*n = restNumber{Value: v, Set: true}
	return nil
}

// restTime is a date column: UTC with second resolution, and RT writes
// "never" as 1970-01-01T00:00:00Z (or leaves the key out), both unset.
type restTime struct{ time.Time }

func (t *restTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		if string(bytes.TrimSpace(b)) == "null" {
			*t = restTime{}
			return nil
		}
		return fmt.Errorf("date %s is not a string", b)
	}
	if s == "" {
		*t = restTime{}
		return nil
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("date %q: %w", s, err)
	}
	if v.Unix() <= 0 {
		v = time.Time{}
	}
	*t = restTime{v}
	return nil
}

// userRef is a user embedded in a record: the id is the user's name (also
// for names that are email addresses, RT_System and Nobody).
type userRef struct {
	Name         string `json:"id"`
	Organization string `json:"Organization"`
}

// restTicket is an item of /tickets with the fields the source asks for.
// Neither "type" (the resource) nor "Type" (RT's ticket type column) is
// declared: a struct that declares one of them gets either value, at
// random, because encoding/json matches keys case-insensitively and RT's
// key order varies.
type restTicket struct {
	ID     restID `json:"id"`
	Status string `json:"Status"`
	Queue  struct {
		Name      string `json:"Name"`
		Lifecycle string `json:"Lifecycle"`
	} `json:"Queue"`
	Owner        userRef         `json:"Owner"`
	Requestor    []userRef       `json:"Requestor"`
	Created      restTime        `json:"Created"`
	LastUpdated  restTime        `json:"LastUpdated"`
	Resolved     restTime        `json:"Resolved"`
	Priority     restNumber      `json:"Priority"`
	CustomFields []restFieldVals `json:"CustomFields"`
}

// restFieldVals is one custom field's values on a ticket.
type restFieldVals struct {
	ID     restID   `json:"id"`
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// restTxn is an item of /transactions. It carries both "type" (the
// resource, "transaction") and "Type" (Create, Correspond…), so both are
// declared, each landing in its own field.
type restTxn struct {
	ID       restID   `json:"id"`
	Resource string   `json:"type"`
	Type     string   `json:"Type"`
	ObjectID restID   `json:"ObjectId"`
	Field    string   `json:"Field"`
	OldValue string   `json:"OldValue"`
	NewValue string   `json:"NewValue"`
	Created  restTime `json:"Created"`
	Creator  userRef  `json:"Creator"`
}

// restUser is GET /user/{name}: for users other than itself the API user
// gets a summary, in which Privileged (a number here, unlike everywhere
// else) is still right.
type restUser struct {
	Name       string     `json:"Name"`
	Privileged restNumber `json:"Privileged"`
	Disabled   restNumber `json:"Disabled"`
}

// restCustomField is an item of /customfields with fields=Name.
type restCustomField struct {
	ID   restID `json:"id"`
	Name string `json:"Name"`
}

// restQueue is GET /queue/{id}.
type restQueue struct {
	Name      string `json:"Name"`
	Lifecycle string `json:"Lifecycle"`
}

// restRT is GET /rt; Plugins is only there for a superuser.
type restRT struct {
	Version string          `json:"Version"`
	Plugins json.RawMessage `json:"Plugins"`
}
