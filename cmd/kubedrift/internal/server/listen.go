package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// shutdownTimeout bounds the graceful shutdown; a var so tests can shorten it.
var shutdownTimeout = 10 * time.Second

// Listen binds addr (which may be "127.0.0.1:0") and serves h until ctx is
// done, then shuts the server down gracefully, waiting at most 10 s for
// in-flight requests before closing their connections. It returns the bound
// address and wait, which blocks until the server has stopped and returns
// why it stopped abnormally (nil after a clean shutdown). wait may be called
// more than once.
func Listen(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (actualAddr string, wait func() error, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	bound := ln.Addr().String()
	srv := &http.Server{
		Handler: h,
		// Slowloris protection; the handlers themselves are quick, except
		// a scrape of a large fleet, hence no tight WriteTimeout.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	done := make(chan error, 1)
	go func() {
		select {
		case err := <-serveErr:
			// Serve failed on its own (the listener broke).
			done <- fmt.Errorf("serve http on %s: %w", bound, err)
			return
		case <-ctx.Done():
		}
		log.Info("shutting down http server", slog.String("addr", bound))
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		err := srv.Shutdown(sctx)
		if err != nil {
			// Requests still running after the bound: cut them off.
			_ = srv.Close()
			err = fmt.Errorf("shut down http server on %s: %w", bound, err)
		}
		if e := <-serveErr; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = fmt.Errorf("serve http on %s: %w", bound, e)
		}
		done <- err
	}()
	log.Info("http server listening", slog.String("addr", bound))
	return bound, sync.OnceValue(func() error { return <-done }), nil
}
