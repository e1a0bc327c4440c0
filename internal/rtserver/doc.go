// Package rtserver runs a real Request Tracker 5 (Debian's
// request-tracker5) on 127.0.0.1 for tests, fills it the way customers
// and agents do, and moves what they did into the past.
//
// # Starting one
//
//	srv := rtserver.Start(t, rtserver.Options{Lifecycles: []rtserver.Lifecycle{rtserver.ScenarioLifecycle}})
//	sc := rtserver.BuildScenario(t, srv, rtserver.ScenarioOptions{Seed: 1, Tickets: 200})
//	// point the source at srv.URL with Authorization: token srv.API.Token
//
// Start makes a throwaway instance in t.TempDir(): a generated
// RT_SiteConfig.pm (SQLite, $BcryptCost 4, UTC, no outgoing mail, log to
// stderr at warning, template and session caches in the instance),
// rt-setup-database-5 --action init --skip-create, then --action insert
// with initialdata.pl (the Agents and Integrations groups and their
// rights, Everyone's CreateTicket and ReplyToTicket, the Satisfaction
// custom field, notification scrips off, auth tokens for root and the
// non-superuser agent "exporter"), and rt-server with two workers, stopped
// with its process group when the test ends. Without RT it skips the test
// (fails it under CI=true); scripts/install-rt.sh installs it.
//
// # Building data
//
// Server's helpers act through REST2 with the acting user's credentials
// (bulk endpoints where RT has them) and through rt-mailgate-5 for
// customer mail, and check RT's answer messages, since REST2 answers 200
// whether or not a change happened. A Timeline then backdates: see
// Timeline for exactly which tables and columns it rewrites and how it
// keeps RT's own derivations (Started, Told, Resolved, LastUpdated)
// consistent.
//
// # What REST2 does
//
// REST2.md records what this RT answers, with the samples in
// testdata/rest2 (rewritten by go test -run TestRequestTracker -update;
// without -update the test compares every live answer's JSON shape with
// its sample, so a changed RT fails until the samples and REST2.md are
// reviewed again).
package rtserver
