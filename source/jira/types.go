package jira

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Own types for the endpoints used. go-jira's Issue/Comment/User types drop
// what the exporter needs (jsdPublic, accountType, comment and changelog
// totals, comment properties), so its client is used for plumbing only.

type serverInfo struct {
	BaseURL        string `json:"baseUrl"`
	Version        string `json:"version"`
	DeploymentType string `json:"deploymentType"`
	ServerTitle    string `json:"serverTitle"`
}

// user is a person on a ticket — its reporter, a comment's author — with
// only what tells who they are and whether they are a customer or an app:
// their names and time zones, repeated in every comment, went unused.
type user struct {
	AccountID   string `json:"accountId"`
	AccountType string `json:"accountType"`
	Name        string `json:"name"`
	Key         string `json:"key"`
}

// myself is the API user (/rest/api/2/myself), whose time zone JQL dates
// are written in.
type myself struct {
	DisplayName string `json:"displayName"`
	TimeZone    string `json:"timeZone"`
}

// identity is the stable id of a user: Cloud accountId, else DC key or name.
func (u *user) identity() string {
	if u == nil {
		return ""
	}
	switch {
	case u.AccountID != "":
		return u.AccountID
	case u.Key != "":
		return u.Key
	}
	return u.Name
}

type fieldDef struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Custom bool   `json:"custom"`
	Schema struct {
		Type   string `json:"type"`
		Custom string `json:"custom"`
	} `json:"schema"`
}

type statusDef struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	StatusCategory struct {
		Key string `json:"key"`
	} `json:"statusCategory"`
}

// searchJQLPage is a Cloud /rest/api/2/search/jql page. Issues stay raw so
// one malformed issue can be skipped without losing the page.
type searchJQLPage struct {
	Issues        []json.RawMessage `json:"issues"`
	NextPageToken string            `json:"nextPageToken"`
	IsLast        bool              `json:"isLast"`
}

// searchPage is a Data Center /rest/api/2/search page.
type searchPage struct {
	StartAt    int               `json:"startAt"`
	MaxResults int               `json:"maxResults"`
	Total      int               `json:"total"`
	Issues     []json.RawMessage `json:"issues"`
}

type rawIssue struct {
	ID        string                     `json:"id"`
	Key       string                     `json:"key"`
	Fields    map[string]json.RawMessage `json:"fields"`
	Changelog *changelogPage             `json:"changelog"`
}

type changelogPage struct {
	StartAt    int                `json:"startAt"`
	MaxResults int                `json:"maxResults"`
	Total      int                `json:"total"`
	Histories  []changelogHistory `json:"histories"`
}

type changelogHistory struct {
	ID      string          `json:"id"`
	Created flexTime        `json:"created"`
	Items   []changelogItem `json:"items"`
}

type changelogItem struct {
	Field      string     `json:"field"`
	FieldID    string     `json:"fieldId"`
	From       flexString `json:"from"`
	FromString flexString `json:"fromString"`
	To         flexString `json:"to"`
	ToString   flexString `json:"toString"`
}

type bulkChangelogRequest struct {
	IssueIDsOrKeys []string `json:"issueIdsOrKeys"`
	FieldIDs       []string `json:"fieldIds"`
	MaxResults     int      `json:"maxResults"`
	NextPageToken  string   `json:"nextPageToken,omitempty"`
}

type bulkChangelogResponse struct {
	IssueChangeLogs []struct {
		IssueID         string             `json:"issueId"`
		ChangeHistories []changelogHistory `json:"changeHistories"`
	} `json:"issueChangeLogs"`
	NextPageToken string `json:"nextPageToken"`
}

type statusField struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	StatusCategory *struct {
		Key string `json:"key"`
	} `json:"statusCategory"`
}

type commentField struct {
	Comments   []comment `json:"comments"`
	MaxResults int       `json:"maxResults"`
	Total      int       `json:"total"`
	StartAt    int       `json:"startAt"`
}

type comment struct {
	ID         string            `json:"id"`
	Author     *user             `json:"author"`
	Created    flexTime          `json:"created"`
	JSDPublic  *bool             `json:"jsdPublic"`
	Properties []commentProperty `json:"properties"`
	// expanded is set on comments read with expand=properties: then a
	// missing sd.public.comment means public, whether properties came as
	// [], null or not at all (Data Center sends each).
	expanded bool
}

type commentProperty struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// commentPage is /rest/api/2/issue/{id}/comment.
type commentPage struct {
	StartAt    int       `json:"startAt"`
	MaxResults int       `json:"maxResults"`
	Total      int       `json:"total"`
	Comments   []comment `json:"comments"`
}

type slaValue struct {
	Name            string      `json:"name"`
	CompletedCycles []slaCycle  `json:"completedCycles"`
	OngoingCycle    *slaOngoing `json:"ongoingCycle"`
	// JSM puts an error object in the field instead when it cannot compute
	// the SLA (an issue outside a service project:
	// sd.jsm.agent.servicedesk.error.servicedesk.missing). Raw, so an
	// error of any shape is recognised rather than failing the ticket.
	ErrorMessage     json.RawMessage `json:"errorMessage"`
	I18nErrorMessage json.RawMessage `json:"i18nErrorMessage"`
}

// slaUse is what an SLA field's value is good for.
type slaUse int

const (
	slaUsable        slaUse = iota
	slaError                // an error object, not an SLA
	slaWithoutCycles        // an SLA that has neither a completed nor a running cycle
)

func (v *slaValue) use() slaUse {
	switch {
	case present(v.ErrorMessage) || present(v.I18nErrorMessage):
		return slaError
	case len(v.CompletedCycles) == 0 && v.OngoingCycle == nil:
		return slaWithoutCycles
	}
	return slaUsable
}

type slaCycle struct {
	StartTime     slaDate     `json:"startTime"`
	StopTime      slaDate     `json:"stopTime"`
	Breached      bool        `json:"breached"`
	GoalDuration  slaDuration `json:"goalDuration"`
	ElapsedTime   slaDuration `json:"elapsedTime"`
	RemainingTime slaDuration `json:"remainingTime"`
}

type slaOngoing struct {
	StartTime     slaDate     `json:"startTime"`
	BreachTime    slaDate     `json:"breachTime"`
	Breached      bool        `json:"breached"`
	Paused        bool        `json:"paused"`
	GoalDuration  slaDuration `json:"goalDuration"`
	ElapsedTime   slaDuration `json:"elapsedTime"`
	RemainingTime slaDuration `json:"remainingTime"`
}

// slaDate is JSM's DateDTO, read into the instant it names while it is
// decoded: epochMillis is authoritative, the strings (jira, then iso8601)
// are the fallback. An issue's SLAs hold a dozen of them, and decoding each
// into a pointer, an epoch pointer and two strings kept only until the SLA
// was converted was a third of an issue's allocations.
type slaDate struct {
	At  time.Time // zero when absent, null or without a time
	err error     // an unreadable fallback time, reported by time()
}

func (d *slaDate) UnmarshalJSON(b []byte) error {
	_, err := d.decodeTrusted(b, skipSpace(b, 0))
	return err
}

// decodeTrusted reads the DTO at b[at] in one walk with no allocation and
// returns the offset after it (trustedDecoder): b is valid JSON, as the
// library or the page split it came from validated it.
func (d *slaDate) decodeTrusted(b []byte, at int) (int, error) {
	*d = slaDate{}
	i := at
	if isNullAt(b, i) {
		return min(i+len("null"), len(b)), nil
	}
	if i >= len(b) || b[i] != '{' {
		return i, errors.New("an SLA date is not an object")
	}
	var epoch int64
	hasEpoch := false
	var jira, iso []byte // the last of each, as a struct field would keep
	for i = skipSpace(b, i+1); i < len(b) && b[i] != '}'; {
		if b[i] != '"' {
			return i, errors.New("an SLA date has a malformed member")
		}
		end := skipValidString(b, i)
		key := b[i+1 : max(i+1, end-1)]
		if bytes.IndexByte(key, '\\') >= 0 || !isASCIIOrValid(key) {
			key = []byte(decodeKey(key))
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return i, errors.New("an SLA date has a malformed member")
		}
		at := skipSpace(b, i+1)
		i = skipValid(b, at)
		value := b[at:i]
		var keep *[]byte
		switch {
		case bytes.EqualFold(key, []byte("epochMillis")):
			if isNull(value) {
				hasEpoch = false // a null pointer, as the library leaves it
				break
			}
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil {
				return i, fmt.Errorf("an SLA date's epochMillis %s is not an integer", value)
			}
			epoch, hasEpoch = n, true
		case bytes.EqualFold(key, []byte("jira")):
			keep = &jira
		case bytes.EqualFold(key, []byte("iso8601")):
			keep = &iso
		}
		if keep != nil && !isNull(value) { // null leaves a string as it was
			if len(value) < 2 || value[0] != '"' {
				return i, fmt.Errorf("an SLA date's time %s is not a string", value)
			}
			*keep = value
		}
		if i = skipSpace(b, i); i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	if i < len(b) && b[i] == '}' {
		i++
	}
	if hasEpoch {
		d.At = time.UnixMilli(epoch).UTC()
		return i, nil
	}
	for _, v := range [][]byte{jira, iso} {
		if len(v) <= 2 { // absent, or ""
			continue
		}
		if t, ok := parseJiraLayout(v[1 : len(v)-1]); ok {
			d.At = t
			return i, nil
		}
		var s string
		if err := decodeString(v, &s); err != nil {
			return i, err
		}
		d.At, d.err = parseJiraTime(s)
		return i, nil
	}
	return i, nil
}

func (d slaDate) time() (time.Time, error) { return d.At, d.err }

type slaDuration struct {
	Millis int64 `json:"millis"`
}

func (d slaDuration) duration() time.Duration { return time.Duration(d.Millis) * time.Millisecond }

type requestTypeValue struct {
	RequestType *struct {
		Name string `json:"name"`
	} `json:"requestType"`
}

type feedback struct {
	Rating json.RawMessage `json:"rating"`
}

// flexTime decodes Jira's several time encodings: "2006-01-02T15:04:05.000-0700",
// RFC 3339, or an epoch number (seconds or milliseconds: bulkfetch's spec
// example uses seconds).
type flexTime struct{ time.Time }

func (t *flexTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	if b[0] == '"' {
		if len(b) >= 2 && b[len(b)-1] == '"' {
			if parsed, ok := parseJiraLayout(b[1 : len(b)-1]); ok {
				t.Time = parsed
				return nil
			}
		}
		var s string
		if err := decodeString(b, &s); err != nil {
			return err
		}
		if s == "" {
			t.Time = time.Time{}
			return nil
		}
		parsed, err := parseJiraTime(s)
		if err != nil {
			return err
		}
		t.Time = parsed
		return nil
	}
	n, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("time %s is neither a string nor a number", b)
	}
	t.Time = epochTime(n)
	return nil
}

func epochTime(n float64) time.Time {
	// Numbers below 1e11 are seconds (1e11 s is the year 5138); above, millis.
	if n < 1e11 {
		return time.UnixMilli(int64(n * 1000)).UTC()
	}
	return time.UnixMilli(int64(n)).UTC()
}

var jiraTimeLayouts = []string{
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05.999999999-0700",
	"2006-01-02T15:04:05-0700",
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
}

func parseJiraTime(s string) (time.Time, error) {
	if t, ok := parseJiraLayout(s); ok {
		return t, nil
	}
	for _, layout := range jiraTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised time %q", s)
}

// parseJiraLayout parses the layout Jira sends every time in,
// "2006-01-02T15:04:05.000-0700", as time.Parse does but without its
// general machinery (a bulkfetch of a thousand tickets holds tens of
// thousands); ok is false for anything else, which time.Parse then reads.
func parseJiraLayout[T string | []byte](s T) (t time.Time, ok bool) {
	if len(s) != len("2006-01-02T15:04:05.000-0700") || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[19] != '.' || (s[23] != '+' && s[23] != '-') {
		return time.Time{}, false
	}
	num := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				ok = false
				return 0
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	ok = true
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, second, milli := num(11, 13), num(14, 16), num(17, 19), num(20, 23)
	offset := num(24, 26)*60 + num(26, 28)
	if !ok || month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour > 23 || minute > 59 || second > 59 || num(24, 26) > 24 || num(26, 28) > 60 { // time.Parse's limits
		return time.Time{}, false
	}
	if s[23] == '-' {
		offset = -offset
	}
	return time.Date(year, time.Month(month), day, hour, minute-offset, second, milli*int(time.Millisecond), time.UTC), true
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 30 + int((m+m/8)%2)
}

// flexString accepts a string, a number or null (changelog from/to hold
// status ids that some versions send as numbers).
type flexString struct {
	Value string
	Set   bool
}

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*s = flexString{}
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := decodeString(b, &v); err != nil {
			return err
		}
		*s = flexString{Value: v, Set: true}
		return nil
	}
	if _, err := strconv.ParseFloat(string(b), 64); err != nil {
		return fmt.Errorf("value %s is neither a string nor a number", b)
	}
	*s = flexString{Value: strings.TrimSpace(string(b)), Set: true}
	return nil
}
