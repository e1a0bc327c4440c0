package rtserver

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RT stores times as UTC text with one-second resolution.
const sqlTime = "2006-01-02 15:04:05"

// unsetTime is what RT stores (and REST2 shows as 1970-01-01T00:00:00Z)
// for a date that was never set.
const unsetTime = "1970-01-01 00:00:00"

// query runs one SELECT through the sqlite3 CLI and decodes its JSON rows.
func (s *Server) query(t testing.TB, sql string, rows any) {
	t.Helper()
	out, err := s.runCommand(time.Now().Add(commandLimit), []byte(sql), sqliteCLI,
		"-bail", "-json", "-cmd", ".timeout 10000", s.DatabasePath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(out)) == "" {
		out = []byte("[]") // sqlite3 prints nothing for no rows
	}
	if err := json.Unmarshal(out, rows); err != nil {
		t.Fatalf("sqlite3 %q: %v\n%s", sql, err, out)
	}
}

// exec runs statements through the sqlite3 CLI in one transaction, so the
// server never reads half of them.
func (s *Server) exec(t testing.TB, statements []string) {
	t.Helper()
	script := "BEGIN IMMEDIATE;\n" + strings.Join(statements, ";\n") + ";\nCOMMIT;\n"
	if _, err := s.runCommand(time.Now().Add(commandLimit), []byte(script), sqliteCLI,
		"-bail", "-cmd", ".timeout 10000", s.DatabasePath); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) maxID(t testing.TB, table string) int {
	t.Helper()
	var rows []struct {
		ID *int `json:"id"`
	}
	s.query(t, "SELECT max(id) AS id FROM "+table, &rows)
	if len(rows) == 0 || rows[0].ID == nil {
		return 0
	}
	return *rows[0].ID
}

func sqlLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func sqlTimeLiteral(tm time.Time) string {
	return sqlLiteral(tm.UTC().Format(sqlTime))
}

func parseSQLTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(sqlTime, s)
	if err != nil {
		t.Fatalf("RT time %q: %v", s, err)
	}
	return tm
}

func idList(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(id)
	}
	return strings.Join(parts, ",")
}
