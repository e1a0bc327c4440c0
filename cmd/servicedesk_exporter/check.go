package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/jira"
)

// checker is what a source that connects to something can report.
type checker interface {
	Check(ctx context.Context) (*jira.CheckReport, error)
}

// runCheck connects to every source and reports what the exporter would
// see; it exits non-zero if any source is unusable.
func runCheck(ctx context.Context, cfg *config.Config, types *source.Registry, out io.Writer, logger *slog.Logger) int {
	exit := 0
	for _, sc := range cfg.Sources {
		src, err := types.Build(sc, source.Env{Logger: logger.With("source_name", sc.Name)})
		if err != nil {
			fmt.Fprintf(out, "source %s (%s)\n  FAIL: %v\n", sc.Name, sc.Type, err)
			exit = 1
			continue
		}
		c, ok := src.(checker)
		if !ok {
			fmt.Fprintf(out, "source %s (%s)\n  OK: built-in simulated desk, nothing to connect to\n", sc.Name, sc.Type)
			continue
		}
		report, err := c.Check(ctx)
		if report == nil || (err != nil && report.Deployment == "") {
			// Nothing was learned: the header alone, then the error.
			fmt.Fprintf(out, "source %s (%s)\n", sc.Name, sc.Type)
		} else {
			if werr := report.WriteText(out); werr != nil {
				return 1
			}
		}
		if err != nil {
			fmt.Fprintf(out, "  FAIL: %v\n", err)
			exit = 1
			continue
		}
		fmt.Fprintln(out, "  OK")
	}
	return exit
}
