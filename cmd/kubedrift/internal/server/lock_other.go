//go:build !(linux || darwin || freebsd || openbsd || netbsd || dragonfly)

package server

import (
	"errors"
	"fmt"
)

// Lock makes sure one kubedrift serve runs per store. flock is not
// available on this platform, so it refuses rather than run unguarded.
func Lock(storePath string) (release func() error, err error) {
	return nil, fmt.Errorf("lock store %s.lock: %w", storePath, errors.ErrUnsupported)
}
