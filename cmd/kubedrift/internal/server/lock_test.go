//go:build linux || darwin || freebsd || openbsd || netbsd || dragonfly

package server

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The test binary doubles as a second kubedrift process: with
// lockHelperEnv set, TestMain runs lockHelper instead of the tests.
const (
	lockHelperEnv   = "KUBEDRIFT_TEST_LOCK_HELPER" // "hold" or "try"
	lockHelperStore = "KUBEDRIFT_TEST_LOCK_STORE"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(lockHelperEnv); mode != "" {
		os.Exit(lockHelper(mode, os.Getenv(lockHelperStore)))
	}
	os.Exit(m.Run())
}

// lockHelper either holds the lock until killed ("hold": prints "locked",
// then blocks on stdin) or tries once and prints the outcome ("try").
func lockHelper(mode, store string) int {
	release, err := Lock(store)
	switch mode {
	case "hold":
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		fmt.Println("locked")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until killed
		_ = release()
		return 0
	case "try":
		if err != nil {
			fmt.Println("error:", err)
			return 0
		}
		fmt.Println("locked")
		_ = release()
		return 0
	}
	fmt.Println("unknown helper mode", mode)
	return 2
}

func helperCmd(t *testing.T, mode, store string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("find test binary: %v", err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+mode, lockHelperStore+"="+store)
	return cmd
}

func TestLockSameProcess(t *testing.T) {
	store := filepath.Join(t.TempDir(), "kubedrift.db")
	release, err := Lock(store)
	if err != nil {
		t.Fatalf("first Lock: %v", err)
	}
	b, err := os.ReadFile(store + ".lock")
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q (%v), want our pid %d", b, err, os.Getpid())
	}

	_, err = Lock(store)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock = %v, want *LockedError", err)
	}
	want := fmt.Sprintf("another kubedrift is running on this store (%s.lock, pid %d)", store, os.Getpid())
	if err.Error() != want {
		t.Errorf("second Lock error = %q, want %q", err, want)
	}

	if err := release(); err != nil {
		t.Fatalf("release: %v", err)
	}
	if err := release(); err != nil {
		t.Errorf("second release: %v", err)
	}
	again, err := Lock(store)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	if err := again(); err != nil {
		t.Errorf("release: %v", err)
	}
}

func TestLockAcrossProcesses(t *testing.T) {
	store := filepath.Join(t.TempDir(), "kubedrift.db")

	t.Run("child sees the parent", func(t *testing.T) {
		release, err := Lock(store)
		if err != nil {
			t.Fatalf("Lock: %v", err)
		}
		defer release()
		out, err := helperCmd(t, "try", store).CombinedOutput()
		if err != nil {
			t.Fatalf("helper: %v\n%s", err, out)
		}
		want := fmt.Sprintf("another kubedrift is running on this store (%s.lock, pid %d)", store, os.Getpid())
		if !strings.Contains(string(out), want) {
			t.Errorf("child got %q, want %q", out, want)
		}
	})

	t.Run("parent sees the child until it dies", func(t *testing.T) {
		cmd := helperCmd(t, "hold", store)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		defer stdin.Close()
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start helper: %v", err)
		}
		killed := false
		defer func() {
			if !killed {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		}()
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "locked" {
			t.Fatalf("helper said %q (%v), want locked", line, err)
		}

		_, err = Lock(store)
		var le *LockedError
		if !errors.As(err, &le) || le.PID != cmd.Process.Pid {
			t.Fatalf("Lock while the child holds it = %v, want *LockedError naming pid %d", err, cmd.Process.Pid)
		}
		if !strings.Contains(err.Error(), "pid "+strconv.Itoa(cmd.Process.Pid)) {
			t.Errorf("error %q does not name the child's pid", err)
		}

		// SIGKILL: no release runs; the kernel must drop the lock.
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill helper: %v", err)
		}
		_ = cmd.Wait()
		killed = true
		release, err := Lock(store)
		if err != nil {
			t.Fatalf("Lock after the holder died: %v", err)
		}
		if err := release(); err != nil {
			t.Errorf("release: %v", err)
		}
	})
}

func TestLockErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		store string
		want  string
	}{
		{"missing directory", filepath.Join(dir, "no-such-dir", "kubedrift.db"), "open store lock " + filepath.Join(dir, "no-such-dir", "kubedrift.db.lock")},
		{"lock path is a directory", mkdir(t, filepath.Join(dir, "d.db.lock"), dir, "d.db"), "open store lock " + filepath.Join(dir, "d.db.lock")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release, err := Lock(tt.store)
			if err == nil {
				release()
				t.Fatal("Lock succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestLockedErrorUnknownPID(t *testing.T) {
	err := &LockedError{Path: "/var/lib/kubedrift/store.db.lock"}
	if got, want := err.Error(), "another kubedrift is running on this store (/var/lib/kubedrift/store.db.lock, pid unknown)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// mkdir creates dir and returns filepath.Join(parent, name).
func mkdir(t *testing.T, dir, parent, name string) string {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(parent, name)
}
