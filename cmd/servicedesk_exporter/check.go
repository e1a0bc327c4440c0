package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
)

// runCheck connects to every source that connects to something and
// reports what the exporter would see; it exits non-zero if any source is
// unusable.
func runCheck(ctx context.Context, cfg *config.Config, types *source.Registry, out io.Writer, logger *slog.Logger) int {
	exit := 0
	for _, sc := range cfg.Sources {
		fmt.Fprintf(out, "source %s (%s)\n", sc.Name, sc.Type)
		src, err := types.Build(sc, source.Env{Logger: logger.With("source_name", sc.Name)})
		if err != nil {
			fmt.Fprintf(out, "  FAIL: %v\n", err)
			exit = 1
			continue
		}
		c, ok := src.(source.Checker)
		if !ok {
			fmt.Fprintln(out, "  OK: nothing to connect to")
			continue
		}
		if err := c.Check(ctx, out); err != nil {
			fmt.Fprintf(out, "  FAIL: %v\n", err)
			exit = 1
			continue
		}
		fmt.Fprintln(out, "  OK")
	}
	return exit
}
