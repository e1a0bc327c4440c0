package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
)

// runCheck connects to every source and reports what the exporter would
// see; it exits non-zero if any source is unusable.
func runCheck(ctx context.Context, cfg *config.Config, out io.Writer, logger *slog.Logger) int {
	factory := newSourceFactory(prometheus.NewRegistry(), logger)
	exit := 0
	for _, sc := range cfg.Sources {
		src, err := factory.build(ctx, sc)
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
