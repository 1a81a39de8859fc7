package email

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/textproto"
	"strings"
	"syscall"
	"testing"

	gomail "github.com/wneessen/go-mail"
)

func validConfig() Config {
	return Config{Host: "smtp.example.org", From: "kubedrift@example.org", To: []string{"ops@example.org"}}
}

func TestNewValidation(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mod      func(*Config)
		wantErr  string // "" for valid
		wantPort int
	}{
		{"defaults to starttls on 587", func(c *Config) {}, "", 587},
		{"implicit tls on 465", func(c *Config) { c.TLS = TLSImplicit }, "", 465},
		{"opportunistic", func(c *Config) { c.TLS = TLSStartTLSOpportunistic }, "", 587},
		{"none on 25", func(c *Config) { c.TLS = TLSNone }, "", 25},
		{"explicit port", func(c *Config) { c.Port = 2525 }, "", 2525},
		{"several recipients with names", func(c *Config) { c.To = []string{"A <a@example.org>", "b@example.org"} }, "", 587},
		{"credentials over tls", func(c *Config) { c.Username, c.Password = "u", "pw-secret-1" }, "", 587},
		{"credentials without tls on loopback", func(c *Config) { c.Host, c.TLS, c.Username, c.Password = "127.0.0.1", TLSNone, "u", "pw-secret-1" }, "", 25},
		{"credentials without tls remote", func(c *Config) { c.TLS, c.Username, c.Password = TLSNone, "u", "pw-secret-1" }, "clear text", 0},
		{"no host", func(c *Config) { c.Host = "" }, "host", 0},
		{"host is a url", func(c *Config) { c.Host = "smtp://x" }, "host", 0},
		{"host with port", func(c *Config) { c.Host = "smtp.example.org:587" }, "the port goes in port", 0},
		{"ipv6 host", func(c *Config) { c.Host = "::1" }, "", 587},
		{"port too big", func(c *Config) { c.Port = 70000 }, "port 70000", 0},
		{"negative port", func(c *Config) { c.Port = -1 }, "port -1", 0},
		{"unknown tls", func(c *Config) { c.TLS = "ssl" }, `tls "ssl"`, 0},
		{"bad from", func(c *Config) { c.From = "kubedrift" }, `from "kubedrift"`, 0},
		{"no recipients", func(c *Config) { c.To = nil }, "at least one recipient", 0},
		{"bad recipient", func(c *Config) { c.To = []string{"ok@example.org", "not an address"} }, `to[1] "not an address"`, 0},
		{"password without user", func(c *Config) { c.Password = "pw-secret-1" }, "without username", 0},
		{"negative timeout", func(c *Config) { c.Timeout = -1 }, "timeout", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig()
			tc.mod(&cfg)
			n, err := New(cfg)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if n.cfg.Port != tc.wantPort {
					t.Errorf("port = %d, want %d", n.cfg.Port, tc.wantPort)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New error = %v, want one containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "pw-secret-1") {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"context deadline", fmt.Errorf("dial failed: %w", context.DeadlineExceeded), true},
		{"context canceled", context.Canceled, true},
		{"connection refused", fmt.Errorf("dial failed: %w", refused), true},
		{"reset", syscall.ECONNRESET, true},
		{"smtp 421 greeting", &textproto.Error{Code: 421, Msg: "too busy"}, true},
		{"smtp 554 greeting", &textproto.Error{Code: 554, Msg: "no service"}, false},
		{"auth 535", fmt.Errorf("SMTP AUTH failed: %w", &textproto.Error{Code: 535, Msg: "bad"}), false},
		{"starttls missing", errors.New(`STARTTLS mode set to: "TLSMandatory", but target host does not support STARTTLS`), false},
		{"no auth mechanism", gomail.ErrNoSupportedAuthDiscovered, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := retryable(tc.err); got != tc.want {
				t.Errorf("retryable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestMessageID(t *testing.T) {
	a, _ := New(validConfig())
	other := validConfig()
	other.To = []string{"someone-else@example.org"}
	b, _ := New(other)
	if a.messageID("batch-1") != a.messageID("batch-1") {
		t.Error("Message-ID of the same batch differs between attempts")
	}
	if a.messageID("batch-1") == a.messageID("batch-2") {
		t.Error("different batches share a Message-ID")
	}
	if a.messageID("batch-1") == b.messageID("batch-1") {
		t.Error("different recipient lists share a Message-ID")
	}
	if id := a.messageID("batch-1"); !strings.HasSuffix(id, "@example.org") || strings.ContainsAny(id, "<> ") {
		t.Errorf("Message-ID %q", id)
	}
}

func TestConfigStringHidesPassword(t *testing.T) {
	cfg := validConfig()
	cfg.Username, cfg.Password = "bot", "pw-secret-1"
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("email", "config", cfg)
	for name, s := range map[string]string{"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg), "slog": logged.String()} {
		if strings.Contains(s, "pw-secret-1") || !strings.Contains(s, "[redacted]") || !strings.Contains(s, "smtp.example.org") {
			t.Errorf("%s: %s", name, s)
		}
	}
}
