package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/model"

	"github.com/servicedesk-exporter/servicedesk_exporter/backfill"
	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/pipeline"
	"github.com/servicedesk-exporter/servicedesk_exporter/store"
)

// defaultJob is the scrape job the docs and examples/prometheus.yml use,
// and the one the ServiceDeskExporterDown alert selects.
const defaultJob = "servicedesk"

// backfillRequest is what a backfill is asked for, by the command line or
// by the /-/backfill endpoint.
type backfillRequest struct {
	from, to string
	step     time.Duration
	sources  []string
	labels   map[string]string
}

type backfillFlags struct {
	cmd *kingpin.CmdClause
	out string
	req backfillRequest
}

func addBackfillCommand(app *kingpin.Application) *backfillFlags {
	b := &backfillFlags{req: backfillRequest{labels: map[string]string{}}}
	b.cmd = app.Command("backfill", "Write the history the exporter would have served since the tracking horizon, "+
		"as OpenMetrics for promtool tsdb create-blocks-from openmetrics (docs/backfill.md). Reads the store only; "+
		"while the exporter runs, fetch it from its /-/backfill endpoint instead.")
	b.cmd.Flag("out", "File to write, - for standard output.").Required().StringVar(&b.out)
	b.cmd.Flag("from", "First instant (RFC 3339, a date, or Unix seconds). Default: the sources' tracking horizon.").StringVar(&b.req.from)
	b.cmd.Flag("to", "Last instant (RFC 3339, a date, or Unix seconds): the first live scrape, to join the live series without overlap. Default: now.").StringVar(&b.req.to)
	b.cmd.Flag("step", "Spacing of the samples; at most Prometheus' lookback delta (5m by default) for gap-free queries.").
		Default(backfill.DefaultStep.String()).DurationVar(&b.req.step)
	b.cmd.Flag("source", "Source to backfill (repeatable). Default: every configured source.").StringsVar(&b.req.sources)
	b.cmd.Flag("label", "Label added to every series (repeatable), as the scrape adds it: instance=HOST:PORT is required, "+
		"job defaults to "+defaultJob+".").PlaceHolder("NAME=VALUE").StringMapVar(&b.req.labels)
	return b
}

// options resolves the request against the configuration; Plan then
// resolves it against the store.
func (q backfillRequest) options(cfg *config.Config, now time.Time) (backfill.Options, error) {
	opts := backfill.Options{Step: q.step, Aggregate: pipeline.AggregateOptions(cfg.Metrics), Labels: map[string]string{"job": defaultJob}}
	for k, v := range q.labels {
		opts.Labels[k] = v
	}
	if opts.Labels["instance"] == "" {
		return opts, errors.New(`no instance label: give the target your Prometheus scrapes, e.g. instance=servicedesk-exporter:9811, ` +
			`so that the imported series continue the live ones`)
	}
	var err error
	if opts.From, err = parseInstant(q.from, time.Time{}); err != nil {
		return opts, fmt.Errorf("from: %w", err)
	}
	if opts.To, err = parseInstant(q.to, now); err != nil {
		return opts, fmt.Errorf("to: %w", err)
	}
	configured := make([]string, 0, len(cfg.Sources))
	for _, s := range cfg.Sources {
		configured = append(configured, s.Name)
	}
	opts.Sources = q.sources
	if len(opts.Sources) == 0 {
		opts.Sources = configured
	}
	for _, s := range opts.Sources {
		if !slices.Contains(configured, s) {
			return opts, fmt.Errorf("source %q is not configured (configured: %s)", s, strings.Join(configured, ", "))
		}
	}
	return opts, nil
}

// parseInstant reads RFC 3339, a date (midnight UTC) or Unix seconds; empty
// is def.
func parseInstant(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		return time.UnixMilli(int64(secs * 1000)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-01-02T15:04:05Z), a date (2026-01-02) nor Unix seconds", s)
}

// query is the /-/backfill query string asking for the same as q.
func (q backfillRequest) query() string {
	v := url.Values{}
	if q.from != "" {
		v.Set("from", q.from)
	}
	if q.to != "" {
		v.Set("to", q.to)
	}
	v.Set("step", model.Duration(q.step).String())
	for _, s := range q.sources {
		v.Add("source", s)
	}
	names := make([]string, 0, len(q.labels))
	for k := range q.labels {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		v.Add("label", k+"="+q.labels[k])
	}
	return v.Encode()
}

func runBackfill(ctx context.Context, f flags, cfg *config.Config, b *backfillFlags, stdout, stderr io.Writer, logger *slog.Logger) int {
	// kingpin hands a lone "-" over as "", so both mean standard output.
	if b.out == "" {
		b.out = "-"
	}
	now := time.Now()
	opts, err := b.req.options(cfg, now)
	if err != nil {
		fmt.Fprintf(stderr, "%s backfill: %v\n", programName, err)
		return 1
	}
	st, err := store.Open(cfg.Store.Path, store.Options{ReadOnly: true})
	if err != nil {
		if storeLocked(cfg.Store.Path) {
			fmt.Fprint(stderr, endpointHint(f, b))
			return 1
		}
		fmt.Fprintf(stderr, "%s backfill: %v\n", programName, err)
		return 1
	}
	opts, err = backfill.Plan(st, opts)
	var hist *backfill.History
	if err == nil {
		warnStaleSources(st, cfg, opts, logger)
		if opts.Step > backfill.DefaultStep {
			logger.Warn("Prometheus looks back 5m for a sample by default (--query.lookback-delta): a longer step leaves gaps between samples",
				"step", opts.Step)
		}
		// The load turns every stored record into garbage while the
		// store's memory map fills; a tighter GC during it keeps the peak
		// (map plus heap) near the loaded history's size.
		gc := debug.SetGCPercent(50)
		hist, err = backfill.Load(st, opts)
		debug.SetGCPercent(gc)
	}
	// Closed before the long write: its memory map is as large as the file.
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s backfill: %v\n", programName, err)
		return 1
	}

	w := stdout
	var file *backfill.File
	if b.out != "-" {
		if file, err = backfill.Create(b.out); err != nil {
			fmt.Fprintf(stderr, "%s backfill: %v\n", programName, err)
			return 1
		}
		w = file
	}
	stats, err := hist.Write(ctx, w)
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(b.out) // an incomplete file must not be imported
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s backfill: %v\n", programName, err)
		return 1
	}
	logBackfill(logger, "backfill written", b.out, stats)
	return 0
}

func logBackfill(logger *slog.Logger, msg, out string, s backfill.Stats) {
	logger.Info(msg, "out", out, "from", s.From.Format(time.RFC3339Nano), "to", s.To.Format(time.RFC3339Nano),
		"steps", s.Steps, "samples", s.Samples, "bytes", s.Bytes, "max_series", s.MaxSeries,
		"tickets", s.Tickets, "entries", s.Entries, "load", s.LoadDuration.Round(time.Millisecond))
}

// warnStaleSources says when a source's store ends before the backfill
// does: from its last sync on, its values stay where they were.
func warnStaleSources(st *store.Store, cfg *config.Config, opts backfill.Options, logger *slog.Logger) {
	for _, sc := range cfg.Sources {
		if !slices.Contains(opts.Sources, sc.Name) {
			continue
		}
		last, err := st.LastSynced(sc.Name)
		if err != nil || last.IsZero() {
			continue
		}
		if lag := opts.To.Sub(last); lag > time.Duration(sc.PollInterval)+time.Minute {
			logger.Warn("the store knows this source only up to its last sync; its series stay flat after it",
				"source", sc.Name, "last_sync", last.Format(time.RFC3339), "to", opts.To.Format(time.RFC3339))
		}
	}
}

// endpointHint says how to get the same backfill from the running
// exporter, which holds the store's lock.
func endpointHint(f flags, b *backfillFlags) string {
	addr := defaultListen
	if f.toolkit != nil && f.toolkit.WebListenAddresses != nil && len(*f.toolkit.WebListenAddresses) > 0 {
		addr = (*f.toolkit.WebListenAddresses)[0]
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = "localhost", strings.TrimPrefix(addr, ":")
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	out := "-o '" + b.out + "' "
	if b.out == "-" {
		out = ""
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s backfill: the store is held by a running exporter (bbolt allows no reader beside it).\n", programName)
	sb.WriteString("Fetch the same backfill from the running exporter instead:\n\n")
	fmt.Fprintf(&sb, "  curl -fsS --compressed %s'http://%s/-/backfill?%s'\n\n", out, net.JoinHostPort(host, port), b.req.query())
	if f.toolkit != nil && f.toolkit.WebConfigFile != nil && *f.toolkit.WebConfigFile != "" {
		sb.WriteString("Use https:// if the web config enables TLS, and add the credentials it requires (curl -u USER, --cacert).\n")
	}
	sb.WriteString("Or stop the exporter, run this command again, and start the exporter: it continues from the same store.\n")
	return sb.String()
}
