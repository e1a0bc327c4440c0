// Command servicedesk_exporter polls service desks (Jira Service Management,
// the built-in demo desk) in the background and serves what it derived as
// Prometheus metrics.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/servicedesk-exporter/servicedesk_exporter/config"
	"github.com/servicedesk-exporter/servicedesk_exporter/exposition"
	"github.com/servicedesk-exporter/servicedesk_exporter/source"
	"github.com/servicedesk-exporter/servicedesk_exporter/source/builtin"
	"github.com/servicedesk-exporter/servicedesk_exporter/store"
)

const (
	programName   = "servicedesk_exporter"
	defaultListen = ":9811"
	// shutdownGrace bounds how long SIGTERM waits for an in-flight poll
	// batch to commit and for scrapes to finish.
	shutdownGrace = 5 * time.Second
	// configFileEnv sets --config.file when the flag is not given, so an
	// image's config path survives arguments (docker run IMAGE check).
	configFileEnv = "SERVICEDESK_EXPORTER_CONFIG_FILE"
)

func main() {
	if version.Version == "" {
		// Release builds set it with -ldflags (see Dockerfile); say so
		// rather than print an empty version.
		version.Version = "dev"
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type flags struct {
	configFile   string
	configCheck  bool
	metricsPath  string
	maxRequests  int
	storeRebuild bool
	healthAddr   string
	toolkit      *web.FlagConfig
	log          *promslog.Config
}

func run(args []string, stdout, stderr io.Writer) int {
	app := kingpin.New(programName, "Prometheus exporter for internal service desks: first response, resolution, reopens, SLA and satisfaction.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	f := flags{log: &promslog.Config{Writer: stderr}}
	app.Flag("config.file", "Configuration file.").Envar(configFileEnv).Default("config.yaml").StringVar(&f.configFile)
	app.Flag("config.check", "Validate the configuration file (and --web.config.file if set), print every problem, and exit.").BoolVar(&f.configCheck)
	app.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").StringVar(&f.metricsPath)
	app.Flag("web.max-requests", "Maximum number of concurrent scrapes; further ones get 503. 0 means no limit.").Default("40").IntVar(&f.maxRequests)
	app.Flag("store.rebuild", "Delete the store file and rebuild it from the sources. Counters restart from what the sources still hold within the horizon.").BoolVar(&f.storeRebuild)
	f.toolkit = kingpinflag.AddFlags(app, defaultListen)
	app.Flag("web.health-address", "Extra plain-HTTP address serving only /-/healthy and /-/ready, without the TLS and basic auth of --web.config.file, for probes that cannot send credentials (kubelet). Empty: none.").Default("").StringVar(&f.healthAddr)
	promslogflag.AddFlags(app, f.log)
	app.Version(version.Print(programName))
	app.HelpFlag.Short('h')
	serveCmd := app.Command("serve", "Run the exporter (the default).").Default()
	checkCmd := app.Command("check", "Connect to every configured source, report what the exporter would see, and exit.")
	backfillCmd := addBackfillCommand(app)

	cmd, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", programName, err)
		return 1
	}
	logger := promslog.New(f.log)

	types := builtin.Registry()
	cfg, err := config.Load(f.configFile, types)
	if f.configCheck {
		return checkConfig(f, cfg, err, stdout, stderr)
	}
	if err != nil {
		// One plain "file:line: message" line per problem, as
		// --config.check prints them: a log line would escape them.
		fmt.Fprintln(stderr, err)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case checkCmd.FullCommand():
		return runCheck(ctx, cfg, types, stdout, logger)
	case serveCmd.FullCommand():
		return serve(ctx, f, cfg, types, logger)
	case backfillCmd.cmd.FullCommand():
		return runBackfill(ctx, f, cfg, backfillCmd, stdout, stderr, logger)
	}
	return 1
}

// checkConfig is --config.check: it reports every problem of the config
// file (loaded as cfg, or failing with loadErr) and of the web config
// file, one plain line each on stderr, and exits 1 if there is any.
func checkConfig(f flags, cfg *config.Config, loadErr error, stdout, stderr io.Writer) int {
	valid := loadErr == nil
	if loadErr != nil {
		fmt.Fprintln(stderr, loadErr)
	}
	webConfig := *f.toolkit.WebConfigFile
	if webConfig != "" {
		if err := web.Validate(webConfig); err != nil {
			var pathErr *fs.PathError
			if errors.As(err, &pathErr) {
				err = pathErr.Err // the path comes first already
			}
			fmt.Fprintf(stderr, "%s: %s\n", webConfig, strings.Join(strings.Fields(err.Error()), " "))
			valid = false
		}
	}
	if !valid {
		return 1
	}
	fmt.Fprintf(stdout, "%s: configuration is valid (%d sources)\n", f.configFile, len(cfg.Sources))
	if webConfig != "" {
		fmt.Fprintf(stdout, "%s: web configuration is valid\n", webConfig)
	}
	return 0
}

func serve(ctx context.Context, f flags, cfg *config.Config, types *source.Registry, logger *slog.Logger) int {
	logger.Info("starting "+programName, "version", version.Info(), "build_context", version.BuildContext())
	if f.storeRebuild {
		// Under the store's lock: another exporter still running on the
		// file refuses the rebuild as it refuses a second start.
		if err := store.Remove(cfg.Store.Path); err != nil {
			logger.Error("cannot rebuild the store", "err", err)
			return 1
		}
		logger.Warn("store removed; rebuilding it from the sources", "path", cfg.Store.Path)
	}
	d, err := newDaemon(ctx, cfg, types, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	defer func() {
		if err := d.Close(); err != nil {
			logger.Error("closing store", "err", err)
		}
	}()

	health, err := startHealthServer(f.healthAddr, d, logger)
	if err != nil {
		logger.Error("cannot start the health listener", "err", err)
		return 1
	}

	reloadCh := make(chan chan error)
	srv := exposition.NewServer(newMux(d, f, reloadCh))
	srvErr := make(chan error, 1)
	go func() { srvErr <- web.ListenAndServe(srv, f.toolkit, logger) }()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	exit := 0
loop:
	for {
		select {
		case <-ctx.Done():
			logger.Info("shutting down")
			break loop
		case <-hup:
			if err := d.reload(f.configFile); err != nil {
				logger.Error("reload failed; keeping the running configuration", "err", err)
			}
		case rc := <-reloadCh:
			err := d.reload(f.configFile)
			if err != nil {
				logger.Error("reload failed; keeping the running configuration", "err", err)
			}
			rc <- err
		case err := <-health.errors():
			logger.Error("health listener failed", "err", err)
			exit = 1
			break loop
		case err := <-srvErr:
			if !errors.Is(err, http.ErrServerClosed) {
				logger.Error("web server failed", "err", err)
				exit = 1
			}
			break loop
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("web server did not shut down cleanly", "err", err)
	}
	if err := health.shutdown(shutdownCtx); err != nil {
		logger.Warn("health listener did not shut down cleanly", "err", err)
	}
	return exit
}
