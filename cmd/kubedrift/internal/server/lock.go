package server

import (
	"fmt"
	"strconv"
)

// LockedError says another process holds the store lock.
type LockedError struct {
	// Path is the lock file.
	Path string
	// PID is the holder's process id as it wrote it, or 0 when unknown.
	PID int
}

func (e *LockedError) Error() string {
	pid := "pid unknown"
	if e.PID > 0 {
		pid = "pid " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("another kubedrift is running on this store (%s, %s)", e.Path, pid)
}
