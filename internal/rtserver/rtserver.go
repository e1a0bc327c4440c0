package rtserver

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/servicedesk-exporter/servicedesk_exporter/internal/exportertest"
)

// Where Debian's request-tracker5 packages put RT.
const (
	rtLib          = "/usr/share/request-tracker5/lib"
	rtServerBinary = "/usr/share/request-tracker5/libexec/rt-server"
	setupDatabase  = "rt-setup-database-5"
	mailgate       = "rt-mailgate-5"
	sqliteCLI      = "sqlite3"

	// InstallCommand installs everything Start needs on Debian bookworm.
	InstallCommand = "scripts/install-rt.sh"
)

// Names the generated instance is built with.
const (
	// Rtname is RT's $rtname: mail subjects carry "[rt.test #ID]".
	Rtname = "rt.test"
	// APIUserName is the privileged, non-superuser agent whose token
	// (Server.API) the exporter is meant to use.
	APIUserName = "exporter"
	// AgentsGroup is the user-defined group holding the agents' rights.
	AgentsGroup = "Agents"
	// SatisfactionField is the global ticket custom field (SelectSingle 1..5).
	SatisfactionField = "Satisfaction"
	// RootPassword is root's password after rt-setup-database's init.
	RootPassword = "password"
	// SystemUserName is the user RT records its own actions under.
	SystemUserName = "RT_System"
)

const (
	startBudget  = 60 * time.Second // database init, initial data, server up
	stopGrace    = 5 * time.Second
	readyPoll    = 100 * time.Millisecond
	httpTimeout  = 60 * time.Second
	commandLimit = 60 * time.Second
)

// Options shape a throwaway instance.
type Options struct {
	// Lifecycles are ticket lifecycles added to RT's default ones, for
	// queues created with QueueSpec.Lifecycle.
	Lifecycles []Lifecycle
	// Workers is rt-server's --max-workers: 1 or 2 (default 2).
	Workers int
}

// Lifecycle is a custom ticket lifecycle. Every status may move to every
// other; the first initial status is the one tickets are created in.
type Lifecycle struct {
	Name     string
	Initial  []string
	Active   []string
	Inactive []string
}

// Credentials authenticate a REST2 request: a token when Token is set,
// otherwise basic auth with User and Password; none when all are empty.
type Credentials struct {
	User     string
	Password string
	Token    string
}

func (c Credentials) authorize(req *http.Request) {
	switch {
	case c.Token != "":
		req.Header.Set("Authorization", "token "+c.Token)
	case c.User != "":
		req.SetBasicAuth(c.User, c.Password)
	}
}

// Server is a running RT instance on 127.0.0.1 with its own SQLite database.
type Server struct {
	// URL is RT's WebBaseURL, without a trailing slash; REST2 is under
	// URL + "/REST/2.0".
	URL string
	// Dir holds the site config, database, caches and logs.
	Dir string
	// DatabasePath is the SQLite database file.
	DatabasePath string
	// Root is the superuser's token; RootBasic the same user by password.
	Root      Credentials
	RootBasic Credentials
	// API is the token of APIUserName, a privileged agent who is not a
	// superuser: what the exporter should be configured with.
	API Credentials
	// AgentsGroupID is the id of AgentsGroup.
	AgentsGroupID int
	// SatisfactionFieldID is the id of the Satisfaction custom field.
	SatisfactionFieldID int

	lifecycles []Lifecycle
	queues     map[string]Queue // by name, as CreateQueue made them
	env        []string
	client     *http.Client
	logPath    string
	cmd        *exec.Cmd
	done       chan struct{}
}

//go:embed initialdata.pl
var initialData string

// Start creates a throwaway RT instance in t.TempDir() and serves it until
// the test ends. Without RT installed it skips the test, or fails it when
// CI is set.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	RequireInstalled(t)
	workers := opts.Workers
	if workers <= 0 || workers > 2 {
		workers = 2
	}
	dir := t.TempDir()
	addr := exportertest.FreeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	s := &Server{
		URL:          "http://" + addr,
		Dir:          dir,
		DatabasePath: filepath.Join(dir, "rt.db"),
		RootBasic:    Credentials{User: "root", Password: RootPassword},
		client:       &http.Client{Timeout: httpTimeout},
		logPath:      filepath.Join(dir, "rt.log"),
		done:         make(chan struct{}),
		lifecycles:   opts.Lifecycles,
		queues:       map[string]Queue{},
	}
	for _, sub := range []string{"siteconfig.d", "mason_data", "session_data", "var"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	siteConfig := filepath.Join(dir, "RT_SiteConfig.pm")
	if err := os.WriteFile(siteConfig, []byte(renderSiteConfig(dir, port, opts.Lifecycles)), 0o600); err != nil {
		t.Fatal(err)
	}
	dataFile := filepath.Join(dir, "initialdata.pl")
	if err := os.WriteFile(dataFile, []byte(initialData), 0o600); err != nil {
		t.Fatal(err)
	}
	tokensFile := filepath.Join(dir, "tokens")
	s.env = append(os.Environ(),
		"RT_SITE_CONFIG="+siteConfig,
		"RT_SITE_CONFIG_DIR="+filepath.Join(dir, "siteconfig.d"),
		"RTSERVER_TOKENS="+tokensFile,
		"TMPDIR="+filepath.Join(dir, "var"),
	)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("RT log (%s):\n%s", s.logPath, tail(s.logPath, 60))
		}
	})

	began := time.Now()
	deadline := began.Add(startBudget)
	s.setupDatabase(t, deadline, dataFile, tokensFile)
	setupDone := time.Now()

	s.serve(t, port, workers)
	s.waitReady(t, deadline)
	t.Logf("RT at %s: database %v, server %v", s.URL,
		setupDone.Sub(began).Round(time.Millisecond), time.Since(setupDone).Round(time.Millisecond))

	s.AgentsGroupID = s.lookupGroup(t, AgentsGroup)
	s.SatisfactionFieldID = s.lookupCustomField(t, SatisfactionField)
	return s
}

// initialized is a database fresh from setupDatabase, kept per test
// process: the initial data never varies, and a copy is seconds cheaper.
var initialized struct {
	sync.Mutex
	db, tokens []byte
}

// setupDatabase creates the schema and RT's initial data, then ours
// (agents, the Satisfaction field, rights, scrips, tokens), or copies the
// result of an earlier instance in this process.
func (s *Server) setupDatabase(t testing.TB, deadline time.Time, dataFile, tokensFile string) {
	t.Helper()
	initialized.Lock()
	defer initialized.Unlock()
	if initialized.db == nil {
		s.run(t, deadline, setupDatabase, "--action", "init", "--skip-create")
		s.run(t, deadline, setupDatabase, "--action", "insert", "--datafile", dataFile)
		db, err := os.ReadFile(s.DatabasePath)
		if err != nil {
			t.Fatal(err)
		}
		tokens, err := os.ReadFile(tokensFile)
		if err != nil {
			t.Fatalf("initial data wrote no tokens: %v", err)
		}
		initialized.db, initialized.tokens = db, tokens
	} else {
		if err := os.WriteFile(s.DatabasePath, initialized.db, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(tokensFile, initialized.tokens, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s.readTokens(t, tokensFile)
}

// RequireInstalled skips the test when RT is not installed, or fails it
// when CI is set: the test suite installs RT, so its absence there is a bug.
func RequireInstalled(t testing.TB) {
	t.Helper()
	var missing []string
	for _, bin := range []string{setupDatabase, mailgate, sqliteCLI} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if _, err := os.Stat(rtServerBinary); err != nil {
		missing = append(missing, rtServerBinary)
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("Request Tracker is not installed (%s missing) and CI is set; run %s (scripts/test.sh does)",
			strings.Join(missing, ", "), InstallCommand)
	}
	t.Skipf("Request Tracker is not installed (%s missing); run %s to test against it",
		strings.Join(missing, ", "), InstallCommand)
}

// run runs an RT command with the instance's environment, its output
// appended to the instance log.
func (s *Server) run(t testing.TB, deadline time.Time, name string, args ...string) {
	t.Helper()
	if _, err := s.runCommand(deadline, nil, name, args...); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) runCommand(deadline time.Time, stdin []byte, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	log, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = s.env
	cmd.Dir = s.Dir
	cmd.Stderr = log
	if stdin != nil {
		cmd.Stdin = strings.NewReader(string(stdin))
	}
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return out, fmt.Errorf("%s %s did not finish in time", name, strings.Join(args, " "))
	}
	if err != nil {
		return out, fmt.Errorf("%s %s: %w (stderr in %s:\n%s)", name, strings.Join(args, " "), err, s.logPath, tail(s.logPath, 20))
	}
	return out, nil
}

func (s *Server) readTokens(t testing.TB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("initial data wrote no tokens: %v", err)
	}
	for line := range strings.Lines(string(b)) {
		name, token, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		switch name {
		case "root":
			s.Root = Credentials{User: name, Token: token}
		case APIUserName:
			s.API = Credentials{User: name, Token: token}
		}
	}
	if s.Root.Token == "" || s.API.Token == "" {
		t.Fatalf("tokens file %s lacks root or %s:\n%s", path, APIUserName, b)
	}
}

// serve starts rt-server in its own process group, so that stopping it
// stops its prefork workers too.
func (s *Server) serve(t testing.TB, port string, workers int) {
	t.Helper()
	log, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rtServerBinary, "--listen", "127.0.0.1:"+port, "--max-workers", strconv.Itoa(workers))
	cmd.Env = s.env
	cmd.Dir = s.Dir
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		t.Fatalf("start rt-server: %v", err)
	}
	s.cmd = cmd
	go func() {
		_ = cmd.Wait()
		_ = log.Close()
		close(s.done)
	}()
	t.Cleanup(s.stop)
}

// stop ends the server's process group: TERM, then KILL after a grace.
func (s *Server) stop() {
	pgid := s.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopGrace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.done
	}
	// Workers may outlive the master by a moment; the group must be empty.
	for range 50 {
		if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
		time.Sleep(readyPoll)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

func (s *Server) waitReady(t testing.TB, deadline time.Time) {
	t.Helper()
	for {
		select {
		case <-s.done:
			t.Fatalf("rt-server exited before answering:\n%s", tail(s.logPath, 30))
		default:
		}
		status, _, _, err := s.request(s.Root, http.MethodGet, "/rt", nil)
		if err == nil && status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("REST2 did not answer within %v (last: status %d, %v)", startBudget, status, err)
		}
		time.Sleep(readyPoll)
	}
}

func (s *Server) lookupGroup(t testing.TB, name string) int {
	t.Helper()
	return s.lookupByName(t, "/groups", name)
}

func (s *Server) lookupCustomField(t testing.TB, name string) int {
	t.Helper()
	// A GET of /customfields without a query lists nothing, even for root.
	return s.lookupByName(t, "/customfields", name)
}

// lookupByName finds the one record of a collection with that name,
// through a JSON query POSTed to the collection.
func (s *Server) lookupByName(t testing.TB, collection, name string) int {
	t.Helper()
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	s.Call(t, s.Root, http.MethodPost, collection, []map[string]string{{"field": "Name", "value": name}}, &page)
	if len(page.Items) != 1 {
		t.Fatalf("%s named %q: %d found", collection, name, len(page.Items))
	}
	return atoi(t, page.Items[0].ID)
}

// RunPerl runs Perl code inside RT (after RT::LoadConfig and RT::Init,
// with $RT::SystemUser at hand) against this instance and returns what it
// printed. Each call starts RT afresh, about a second: batch work.
func (s *Server) RunPerl(t testing.TB, code string) string {
	t.Helper()
	script := "use strict; use warnings; use lib '" + rtLib + "';\n" +
		"use RT; RT::LoadConfig(); RT::Init();\n" + code + "\n"
	out, err := s.runCommand(time.Now().Add(commandLimit), []byte(script), "perl", "-")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func renderSiteConfig(dir, port string, lifecycles []Lifecycle) string {
	var b strings.Builder
	set := func(name, value string) { fmt.Fprintf(&b, "Set($%s, %s);\n", name, value) }
	b.WriteString("# Generated by internal/rtserver for one test instance.\n")
	set("rtname", perlString(Rtname))
	set("Organization", perlString(Rtname))
	set("DatabaseType", perlString("SQLite"))
	set("DatabaseName", perlString(filepath.Join(dir, "rt.db")))
	set("WebDomain", perlString("127.0.0.1"))
	set("WebPort", port)
	set("WebPath", perlString(""))
	set("WebBaseURL", perlString("http://127.0.0.1:"+port))
	set("CorrespondAddress", perlString("support@"+Rtname))
	set("CommentAddress", perlString("support-comment@"+Rtname))
	// No mail leaves the instance: outgoing mail goes to files, and the
	// scrips that would send it are disabled by the initial data.
	set("MailCommand", perlString("testfile"))
	set("Timezone", perlString("UTC"))
	// The default cost makes every basic-auth request take ~300 ms.
	set("BcryptCost", "4")
	set("LogToSTDERR", perlString("warning"))
	set("LogToSyslog", "undef")
	set("LogToFile", "undef")
	// RT's template and session caches default to /var/cache; keep them
	// with the instance (RT reads these package variables at runtime).
	fmt.Fprintf(&b, "$RT::MasonDataDir = %s;\n", perlString(filepath.Join(dir, "mason_data")))
	fmt.Fprintf(&b, "$RT::MasonSessionDir = %s;\n", perlString(filepath.Join(dir, "session_data")))
	fmt.Fprintf(&b, "$RT::VarPath = %s;\n", perlString(filepath.Join(dir, "var")))
	if len(lifecycles) > 0 {
		// RT merges a site config's %Lifecycles into its default ones.
		b.WriteString("Set(%Lifecycles,\n")
		for _, lc := range lifecycles {
			b.WriteString(renderLifecycle(lc))
		}
		b.WriteString(");\n")
	}
	b.WriteString("1;\n")
	return b.String()
}

func renderLifecycle(lc Lifecycle) string {
	var b strings.Builder
	list := func(xs []string) string {
		q := make([]string, len(xs))
		for i, x := range xs {
			q[i] = perlString(x)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	all := append(append(append([]string{}, lc.Initial...), lc.Active...), lc.Inactive...)
	fmt.Fprintf(&b, "    %s => {\n", perlString(lc.Name))
	fmt.Fprintf(&b, "        initial => %s,\n        active => %s,\n        inactive => %s,\n",
		list(lc.Initial), list(lc.Active), list(lc.Inactive))
	if len(lc.Initial) > 0 {
		fmt.Fprintf(&b, "        defaults => { on_create => %s },\n", perlString(lc.Initial[0]))
	}
	b.WriteString("        transitions => {\n")
	fmt.Fprintf(&b, "            '' => %s,\n", list(all))
	for _, from := range all {
		var to []string
		for _, x := range all {
			if x != from {
				to = append(to, x)
			}
		}
		fmt.Fprintf(&b, "            %s => %s,\n", perlString(from), list(to))
	}
	b.WriteString("        },\n        rights => { '* -> *' => 'ModifyTicket' },\n    },\n")
	return b.String()
}

// perlString quotes s as a single-quoted Perl string.
func perlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// tail returns the last n lines of a file, for failure messages, without
// the warning every RT process logs at start (no external HTML converter).
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var lines []string
	for line := range strings.Lines(string(b)) {
		if !strings.Contains(line, "internal HTML converter") {
			lines = append(lines, strings.TrimRight(line, "\n"))
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// jsonBody renders a request body: JSON, or bytes as they are.
func jsonBody(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	return json.Marshal(v)
}
