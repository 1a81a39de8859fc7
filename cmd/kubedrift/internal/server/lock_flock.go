//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// Lock makes sure one kubedrift serve runs per store. It takes an exclusive,
// non-blocking flock on storePath+".lock" and writes its pid there for the
// error another process gets (*LockedError). The kernel drops the lock when
// the process dies, so a crash never leaves a stale lock; the file itself
// stays, because deleting it would let two processes lock different inodes.
//
// flock locks belong to the open file, so a second Lock in the same process
// fails too. release unlocks; calling it again is a no-op.
func Lock(storePath string) (release func() error, err error) {
	path := storePath + ".lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open store lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		pid := readPID(f)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &LockedError{Path: path, PID: pid}
		}
		return nil, fmt.Errorf("lock store %s: %w", path, err)
	}
	if err := writePID(f); err != nil {
		f.Close() // closing drops the lock
		return nil, fmt.Errorf("write pid to store lock %s: %w", path, err)
	}
	return sync.OnceValue(func() error {
		// Clear the pid first so nobody reads ours after we are gone.
		terr := f.Truncate(0)
		uerr := unix.Flock(int(f.Fd()), unix.LOCK_UN)
		cerr := f.Close()
		if err := errors.Join(terr, uerr, cerr); err != nil {
			return fmt.Errorf("release store lock %s: %w", path, err)
		}
		return nil
	}), nil
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// readPID returns the pid in the lock file, or 0 when it is missing or not
// yet written (the holder locks before it writes).
func readPID(f *os.File) int {
	b, err := io.ReadAll(io.LimitReader(f, 32))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
