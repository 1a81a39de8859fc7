package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/data/snapshot"
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	storePath string
	logLevel  string
	logFormat string
	// seed is the bundle a new store is seeded from; the embedded snapshot
	// unless a test swaps it.
	seed []byte
}

func (g *globalOptions) logger(stderr interface{ Write([]byte) (int, error) }) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("--log-level %q: want debug, info, warn or error", g.logLevel)}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(g.logFormat) {
	case "text":
		return slog.New(slog.NewTextHandler(stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, opts)), nil
	}
	return nil, &exitError{code: exitUsage, err: fmt.Errorf("--log-format %q: want text or json", g.logFormat)}
}

// openStore opens the store (creating and seeding it from the embedded
// snapshot on first use).
func (g *globalOptions) openStore(ctx context.Context) (*data.SQLite, error) {
	p := g.storePath
	if p == "" {
		var err error
		if p, err = data.DefaultPath(); err != nil {
			return nil, err
		}
	}
	seed := g.seed
	if seed == nil {
		seed = snapshot.Bytes()
	}
	st, err := data.Open(ctx, p, data.Options{Seed: seed})
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return st, nil
}
