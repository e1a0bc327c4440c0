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
		fmt.Fprintf(out, "source %s (type %s)\n", sc.Name, sc.Type)
		src, err := factory.build(ctx, sc)
		if err != nil {
			fmt.Fprintf(out, "  FAIL: %v\n", err)
			exit = 1
			continue
		}
		c, ok := src.(checker)
		if !ok {
			fmt.Fprintln(out, "  OK: built-in simulated desk, nothing to connect to")
			continue
		}
		report, err := c.Check(ctx)
		if report != nil {
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
