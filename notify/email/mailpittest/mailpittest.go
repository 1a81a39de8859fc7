// Package mailpittest starts a real SMTP server, mailpit, on loopback ports
// for tests, and reads what arrived through its HTTP API. Install the binary
// with: go install github.com/axllent/mailpit@v1.33.1
package mailpittest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a real SMTP server (mailpit) started for one test; the test reads
// what arrived through its HTTP API.
type Server struct {
	// SMTPPort is the loopback port mail is sent to.
	SMTPPort int
	// API is the base URL of mailpit's HTTP API.
	API string
}

// Binary finds the mailpit binary, or skips the test saying how to install it.
func Binary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "mailpit")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	t.Skip("mailpit not found in PATH or $(go env GOPATH)/bin; install it with: go install github.com/axllent/mailpit@v1.33.1")
	return ""
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs mailpit on free loopback ports with a temporary database
// and waits until its API answers. Extra flags are appended.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := Binary(t)
	var lastErr error
	// A free port can be taken between probing and binding; try again then.
	for range 3 {
		m := &Server{SMTPPort: freePort(t)}
		httpPort := freePort(t)
		m.API = "http://127.0.0.1:" + strconv.Itoa(httpPort)
		args := append([]string{
			"--smtp", "127.0.0.1:" + strconv.Itoa(m.SMTPPort),
			"--listen", "127.0.0.1:" + strconv.Itoa(httpPort),
			"--database", filepath.Join(t.TempDir(), "mailpit.db"),
			"--disable-version-check", "--smtp-disable-rdns",
		}, extra...)
		cmd := exec.Command(bin, args...)
		var logs strings.Builder
		cmd.Stdout, cmd.Stderr = &lockedWriter{w: &logs}, &lockedWriter{w: &logs}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start mailpit: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if err := waitReady(m.API, exited); err != nil {
			_ = cmd.Process.Kill()
			<-exited
			lastErr = fmt.Errorf("%w; mailpit output:\n%s", err, logs.String())
			continue
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
		return m
	}
	t.Fatalf("mailpit did not start: %v", lastErr)
	return nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func waitReady(api string, exited <-chan error) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("mailpit exited: %v", err)
		default:
		}
		resp, err := http.Get(api + "/api/v1/messages")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("mailpit API %s not ready", api)
}

// Address is a sender or recipient as mailpit reports it.
type Address struct {
	Name    string
	Address string
}

// Message is one stored message as mailpit's API returns it.
type Message struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Subject   string
	Date      time.Time
	Username  string
	Text      string
	HTML      string
}

// GetJSON decodes the answer of GET API+path into v.
func (m *Server) GetJSON(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(m.API + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", path, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: decode: %v", path, err)
	}
}

// Messages returns every stored message in full, keyed by subject.
func (m *Server) Messages(t testing.TB) map[string]Message {
	t.Helper()
	var list struct {
		Messages []struct{ ID, Subject string }
	}
	m.GetJSON(t, "/api/v1/messages", &list)
	out := map[string]Message{}
	for _, s := range list.Messages {
		var msg Message
		m.GetJSON(t, "/api/v1/message/"+s.ID, &msg)
		out[msg.Subject] = msg
	}
	return out
}

// Headers returns a stored message's headers.
func (m *Server) Headers(t testing.TB, id string) map[string][]string {
	t.Helper()
	h := map[string][]string{}
	m.GetJSON(t, "/api/v1/message/"+id+"/headers", &h)
	return h
}
