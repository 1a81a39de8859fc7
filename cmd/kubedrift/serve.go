package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/spf13/cobra"

	"github.com/kubedrift/kubedrift/cmd/kubedrift/internal/config"
	"github.com/kubedrift/kubedrift/cmd/kubedrift/internal/server"
	"github.com/kubedrift/kubedrift/data"
)

type serveOptions struct {
	configPath    string
	once          bool
	digestPreview string
	listen        string
}

// defaultMemoryLimit is serve's soft memory limit unless GOMEMLIMIT is set:
// the heap then stays near what a cycle needs rather than growing to twice
// that between collections, which keeps a 1,000-cluster fleet well inside a
// 256Mi container. It is soft: a bigger fleet still gets the memory it needs.
const defaultMemoryLimit = 64 << 20

// onceMaxDelay is the longest retry wait of serve --once.
const onceMaxDelay = 2 * time.Second

// shutdownGrace bounds how long serve waits for running jobs on SIGTERM;
// deliveries cut short stay pending in the outbox for the next start.
const shutdownGrace = 30 * time.Second

func newServeCmd(g *globalOptions) *cobra.Command {
	o := &serveOptions{configPath: "kubedrift.yaml"}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the scheduled service: sync, scan, advise, deliver, digest; HTTP metrics and API",
		Long: `Run kubedrift as a service. On the schedules of the configuration it refreshes
upstream data, reads every cluster, evaluates drift and delivers new or changed
advisories to each channel exactly once (through a crash-safe outbox), and sends
the weekly email digest. It serves /healthz, /readyz, /metrics and
/api/v1/pending on the configured address.

With --once it runs one full cycle (sync, scan, evaluate, deliver, digest
preview) and exits: the way to try a configuration.`,
		Example: `  kubedrift serve --config /etc/kubedrift/kubedrift.yaml
  kubedrift serve --config examples/run.yaml --once --digest-preview digest.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd, g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.configPath, "config", o.configPath, "configuration file")
	f.BoolVar(&o.once, "once", false, "run one full cycle and exit")
	f.StringVar(&o.digestPreview, "digest-preview", "", "with --once: also write the weekly digest as HTML to this file")
	f.StringVar(&o.listen, "listen", "", "HTTP listen address (overrides the configuration)")
	return cmd
}

// loadConfig reads and checks a configuration and resolves its secrets.
// Every problem is reported at once, with file:line.
func loadConfig(path string) (*config.Config, config.Secrets, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, config.Secrets{}, &exitError{code: exitUsage, err: err}
	}
	if err := cfg.CheckFiles(); err != nil {
		return nil, config.Secrets{}, &exitError{code: exitUsage, err: err}
	}
	sec, err := cfg.ResolveSecrets(os.Getenv, os.ReadFile)
	if err != nil {
		return nil, config.Secrets{}, &exitError{code: exitUsage, err: err}
	}
	return cfg, sec, nil
}

// openService loads the configuration, takes the store's lock and opens the
// service. The returned close releases everything in order.
func openService(cmd *cobra.Command, g *globalOptions, configPath string) (*service, func(), error) {
	cfg, sec, err := loadConfig(configPath)
	if err != nil {
		return nil, nil, err
	}
	if !cmd.Flags().Changed("log-level") && cfg.Log.Level != "" {
		g.logLevel = cfg.Log.Level
	}
	if !cmd.Flags().Changed("log-format") && cfg.Log.Format != "" {
		g.logFormat = cfg.Log.Format
	}
	log, err := g.logger(cmd.ErrOrStderr())
	if err != nil {
		return nil, nil, err
	}
	if g.storePath == "" {
		g.storePath = cfg.Store
	}
	if g.storePath == "" {
		if g.storePath, err = data.DefaultPath(); err != nil {
			return nil, nil, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(g.storePath), 0o700); err != nil {
		return nil, nil, &exitError{code: exitUsage, err: err}
	}
	release, err := server.Lock(g.storePath)
	if err != nil {
		return nil, nil, &exitError{code: exitUsage, err: err}
	}
	st, err := g.openStore(cmd.Context())
	if err != nil {
		release()
		return nil, nil, err
	}
	s, err := newService(cfg, sec, st, log, cmd.OutOrStdout())
	if err != nil {
		st.Close()
		release()
		return nil, nil, &exitError{code: exitUsage, err: err}
	}
	return s, func() { st.Close(); release() }, nil
}

func runServe(cmd *cobra.Command, g *globalOptions, o *serveOptions) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	s, closeAll, err := openService(cmd, g, o.configPath)
	if err != nil {
		return err
	}
	defer closeAll()
	ctx := cmd.Context()
	if err := s.checkTarget(ctx); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if o.once {
		return s.runOnce(ctx, o.digestPreview)
	}
	return s.run(ctx, o.listen)
}

// runOnce is one full cycle. Failures are reported and the cycle goes on, as
// the service would; the exit status says whether anything failed.
func (s *service) runOnce(ctx context.Context, digestPreview string) error {
	// One cycle does not wait out long backoffs: what a channel refuses stays
	// pending in the outbox, for the next run, and shows in the exit status.
	s.outbox.MaxDelay = onceMaxDelay
	var errs []error
	if err := s.syncJob(ctx); err != nil {
		errs = append(errs, fmt.Errorf("sync: %w", err))
	}
	if err := s.scanJob(ctx); err != nil {
		errs = append(errs, fmt.Errorf("scan: %w", err))
	}
	rep, err := s.evaluate(ctx)
	if err != nil {
		errs = append(errs, fmt.Errorf("evaluate: %w", err))
	}
	s.log.Info("cycle done", "deliveries", rep.Summary())
	if rep.Failed > 0 || rep.Deferred > 0 {
		// --once is how a configuration is tried: a channel that did not
		// take its advisories must show in the exit status.
		errs = append(errs, fmt.Errorf("deliveries: %s (see kubedrift status)", rep.Summary()))
	}
	if digestPreview != "" {
		if err := s.writeDigestPreview(ctx, digestPreview); err != nil {
			errs = append(errs, fmt.Errorf("digest preview: %w", err))
		} else {
			s.log.Info("digest preview written", "file", digestPreview)
		}
	}
	if len(errs) > 0 {
		return &exitError{code: exitPartial, err: errors.Join(errs...)}
	}
	return nil
}

// run is the long-running service: HTTP endpoints and the cron schedules,
// until ctx is cancelled (SIGTERM/SIGINT).
func (s *service) run(ctx context.Context, listen string) error {
	sch := s.cfg.Schedules
	loc, err := time.LoadLocation(sch.TimeZone)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	syncEvery, scanEvery := scheduleInterval(sch.Sync), scheduleInterval(sch.Scan)
	if listen == "" {
		listen = s.cfg.Listen
	}
	h := server.Handler(server.Options{
		Metrics:  s.metrics,
		Ready:    func(ctx context.Context) error { return s.ready(ctx, syncEvery, scanEvery) },
		Pending:  s.writePending,
		APIToken: s.secrets.APIToken,
		Logger:   s.log,
	})
	httpCtx, stopHTTP := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHTTP()
	addr, waitHTTP, err := server.Listen(httpCtx, listen, h, s.log)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	s.log.Info("kubedrift serving", "addr", addr, "version", version)

	cl := cronLogger{s.log}
	c := cron.New(cron.WithLocation(loc), cron.WithLogger(cl),
		cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)))
	job := func(name string, fn func(context.Context) error) func() {
		return func() {
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("job failed; retrying at the next tick", "job", name, "err", err)
			}
		}
	}
	syncThenEvaluate := func(ctx context.Context) error {
		// A little jitter so fleets of kubedrifts don't all hit GitHub at :00.
		if j := s.cfg.Schedules.SyncJitter.Duration; j > 0 {
			select {
			case <-time.After(rand.N(j)):
			case <-ctx.Done():
				return nil
			}
		}
		err := s.syncJob(ctx)
		_, eerr := s.evaluate(ctx)
		return errors.Join(err, eerr)
	}
	scanThenEvaluate := func(ctx context.Context) error {
		err := s.scanJob(ctx)
		_, eerr := s.evaluate(ctx)
		return errors.Join(err, eerr)
	}
	for _, e := range []struct {
		name, spec string
		fn         func(context.Context) error
	}{
		{"sync", sch.Sync, syncThenEvaluate},
		{"scan", sch.Scan, scanThenEvaluate},
		{"digest", sch.Digest, s.digestJob},
	} {
		if _, err := c.AddFunc(e.spec, job(e.name, e.fn)); err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("schedule %s %q: %w", e.name, e.spec, err)}
		}
	}
	// A first cycle right away, so a fresh start is ready without waiting
	// for the first tick.
	// It is waited for on shutdown like the cron jobs.
	var startup sync.WaitGroup
	startup.Go(job("startup", func(ctx context.Context) error {
		err := s.syncJob(ctx)
		err = errors.Join(err, s.scanJob(ctx))
		_, eerr := s.evaluate(ctx)
		return errors.Join(err, eerr)
	}))
	c.Start()
	<-ctx.Done()
	s.log.Info("shutting down: waiting for running jobs", "grace", shutdownGrace)
	stopped := c.Stop()
	done := make(chan struct{})
	go func() {
		<-stopped.Done()
		startup.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(shutdownGrace):
		s.log.Warn("jobs still running after the grace period; pending deliveries resume at the next start")
	}
	stopHTTP()
	if err := waitHTTP(); err != nil {
		s.log.Warn("http server", "err", err)
	}
	return nil
}

// scheduleInterval estimates a schedule's period from its next two ticks,
// for the readiness check.
func scheduleInterval(spec string) time.Duration {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return time.Hour
	}
	now := time.Now()
	a := sched.Next(now)
	return sched.Next(a).Sub(a)
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
