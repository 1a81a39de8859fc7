package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// hangGuard is how long a test waits for something that must happen before
// it declares a hang; it is not a speed requirement.
const hangGuard = 30 * time.Second

func waitWithin(t *testing.T, wait func() error) error {
	t.Helper()
	ch := make(chan error, 1)
	go func() { ch <- wait() }()
	select {
	case err := <-ch:
		return err
	case <-time.After(hangGuard):
		t.Fatalf("server did not stop within %v", hangGuard)
		return nil
	}
}

func TestListenServesUntilCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, wait, err := Listen(ctx, "127.0.0.1:0", Handler(Options{}), nil)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	if strings.HasSuffix(addr, ":0") || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("Listen returned %q, want the bound 127.0.0.1 port", addr)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("GET /healthz = %d %q", resp.StatusCode, body)
	}

	cancel()
	if err := waitWithin(t, wait); err != nil {
		t.Fatalf("wait after cancel: %v", err)
	}
	if err := wait(); err != nil {
		t.Errorf("second wait: %v", err)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after shutdown", addr)
	}
}

func TestListenShutdownIsBounded(t *testing.T) {
	old := shutdownTimeout
	shutdownTimeout = 200 * time.Millisecond
	defer func() { shutdownTimeout = old }()

	entered := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release // a request that outlives the shutdown bound
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, wait, err := Listen(ctx, "127.0.0.1:0", h, nil)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	clientErr := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err == nil {
			resp.Body.Close()
		}
		clientErr <- err
	}()
	<-entered
	cancel()
	err = waitWithin(t, wait)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait = %v, want the shutdown deadline to be exceeded", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name the address", err)
	}
	// The stuck request's connection was closed, not left open.
	if err := <-clientErr; err == nil {
		t.Errorf("slow request completed, want its connection closed")
	}
}

func TestListenAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, _, err = Listen(context.Background(), ln.Addr().String(), Handler(Options{}), nil)
	if err == nil || !strings.Contains(err.Error(), "listen on "+ln.Addr().String()) {
		t.Fatalf("Listen on a used address = %v, want an error naming it", err)
	}
}
