package email

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"github.com/kubedrift/kubedrift/notify/email/mailpittest"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/notify"
)

func mailpitConfig(m *mailpittest.Server) Config {
	return Config{
		Host: "127.0.0.1", Port: m.SMTPPort, TLS: TLSNone,
		From:          "kubedrift <kubedrift@example.org>",
		To:            []string{"platform@example.org", "Oncall Team <oncall@example.org>", "sre-lead@example.net"},
		SubjectPrefix: "[drift-test]",
		Timeout:       10 * time.Second,
	}
}

// normalize undoes transport differences (CRLF, trailing blanks) so parts
// can be compared with what was rendered.
func normalize(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.TrimSpace(s)
}

func TestMailpitDelivery(t *testing.T) {
	mp := mailpittest.Start(t)
	cfg := mailpitConfig(mp)
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fixed := time.Date(2026, 11, 27, 8, 0, 5, 0, time.UTC)
	n.now = func() time.Time { return fixed }

	d, b := testDigest(), testBatch()
	ctx := context.Background()
	if retry, err := n.SendDigest(ctx, d); err != nil {
		t.Fatalf("SendDigest: retry=%v err=%v", retry, err)
	}
	if retry, err := n.Notify(ctx, b); err != nil {
		t.Fatalf("Notify: retry=%v err=%v", retry, err)
	}

	dsubj, dtext, dhtml, _ := renderDigest(d, cfg.SubjectPrefix)
	bsubj, btext, bhtml, _ := renderBatch(b, cfg.SubjectPrefix)
	got := mp.Messages(t)
	if len(got) != 2 {
		t.Fatalf("mailpit holds %d messages, want 2: %v", len(got), slices.Collect(mapKeys(got)))
	}
	for _, tc := range []struct {
		name, subject, text, html string
		links                     []string
	}{
		{"digest", dsubj, dtext, dhtml, []string{
			"https://github.com/kubernetes/kubernetes/pull/90001",
			"https://kubernetes.io/docs/tasks/configure-pod-container/migrate-from-psp/",
			"https://github.com/kubernetes/kubernetes/issues/130001",
		}},
		{"batch", bsubj, btext, bhtml, []string{"https://github.com/kubernetes/kubernetes/releases/tag/v1.32.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.HasPrefix(tc.subject, "[drift-test] ") {
				t.Errorf("subject %q lacks the configured prefix", tc.subject)
			}
			msg, ok := got[tc.subject]
			if !ok {
				t.Fatalf("no message with subject %q; have %v", tc.subject, slices.Collect(mapKeys(got)))
			}
			if msg.From.Address != "kubedrift@example.org" || msg.From.Name != "kubedrift" {
				t.Errorf("From = %+v", msg.From)
			}
			var to []string
			for _, a := range msg.To {
				to = append(to, a.Address)
			}
			slices.Sort(to)
			if want := []string{"oncall@example.org", "platform@example.org", "sre-lead@example.net"}; !slices.Equal(to, want) {
				t.Errorf("To = %v, want %v", to, want)
			}
			if normalize(msg.Text) != normalize(tc.text) {
				t.Errorf("text part differs from the rendering:\n%s", msg.Text)
			}
			if normalize(msg.HTML) != normalize(tc.html) {
				t.Errorf("HTML part differs from the rendering:\n%s", msg.HTML)
			}
			for _, l := range tc.links {
				if !strings.Contains(msg.HTML, `href="`+l+`"`) {
					t.Errorf("HTML lacks a link to %s", l)
				}
				if !strings.Contains(msg.Text, l) {
					t.Errorf("text lacks %s", l)
				}
			}
			if !msg.Date.Equal(fixed) {
				t.Errorf("Date = %v, want %v", msg.Date, fixed)
			}
			if !strings.HasSuffix(msg.MessageID, "@example.org") || !strings.HasPrefix(msg.MessageID, "kubedrift.") {
				t.Errorf("Message-ID = %q", msg.MessageID)
			}
			h := mp.Headers(t, msg.ID)
			if ct := strings.Join(h["Content-Type"], ""); !strings.HasPrefix(ct, "multipart/alternative") {
				t.Errorf("Content-Type = %q, want multipart/alternative", ct)
			}
			if a := strings.Join(h["Auto-Submitted"], ""); a != "auto-generated" {
				t.Errorf("Auto-Submitted = %q", a)
			}
		})
	}
}

func mapKeys(m map[string]mailpittest.Message) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestMailpitAuth(t *testing.T) {
	mp := mailpittest.Start(t, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
	cfg := mailpitConfig(mp)
	cfg.Username, cfg.Password = "kubedrift-bot", "s3cret-Pa55word"
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if retry, err := n.Notify(context.Background(), testBatch()); err != nil {
		t.Fatalf("Notify with auth: retry=%v err=%v", retry, err)
	}
	got := mp.Messages(t)
	if len(got) != 1 {
		t.Fatalf("mailpit holds %d messages, want 1", len(got))
	}
	for _, m := range got {
		if m.Username != "kubedrift-bot" {
			t.Errorf("mailpit recorded SMTP user %q, want kubedrift-bot", m.Username)
		}
	}
}

func TestMailpitRequiresStartTLS(t *testing.T) {
	// The default mode refuses to send to a server that cannot encrypt.
	mp := mailpittest.Start(t)
	cfg := mailpitConfig(mp)
	cfg.TLS = ""
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	retry, err := n.SendDigest(context.Background(), testDigest())
	if err == nil || retry {
		t.Fatalf("SendDigest over plain text with mandatory STARTTLS: retry=%v err=%v, want a permanent error", retry, err)
	}
	if !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("error %q does not say STARTTLS is missing", err)
	}
	if got := mp.Messages(t); len(got) != 0 {
		t.Errorf("%d messages delivered despite the failure", len(got))
	}
}

// fakeSMTP is a minimal SMTP server that answers one command with a chosen
// reply, to exercise failure classification.
type fakeSMTP struct {
	addr string
	// replies maps an upper-cased command verb (MAIL, RCPT, DATA, AUTH, EOM
	// for the end of the message) to its reply; absent verbs succeed.
	replies map[string]string
	// hangUpOn closes the connection without a reply when this verb arrives.
	hangUpOn string
	// echoAuth makes the AUTH reply quote the client's credentials, as a
	// careless server might.
	echoAuth bool
}

func startFakeSMTP(t *testing.T, f *fakeSMTP) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr().String()
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { f.serve(c) })
		}
	})
}

func (f *fakeSMTP) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	say := func(s string) { fmt.Fprintf(c, "%s\r\n", s) }
	reply := func(verb, ok string) bool {
		if verb == f.hangUpOn {
			return false
		}
		if s, found := f.replies[verb]; found {
			say(s)
		} else {
			say(ok)
		}
		return true
	}
	say("220 fake.example ESMTP ready")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch verb {
		case "EHLO":
			say("250-fake.example")
			say("250-AUTH PLAIN")
			say("250 8BITMIME")
		case "HELO", "NOOP", "RSET":
			say("250 OK")
		case "AUTH":
			if verb == f.hangUpOn {
				return
			}
			if s, found := f.replies["AUTH"]; found {
				if f.echoAuth {
					s += " (got " + strings.TrimPrefix(line, "AUTH PLAIN ") + ")"
				}
				say(s)
			} else {
				say("235 2.7.0 Authentication successful")
			}
		case "MAIL":
			if !reply("MAIL", "250 OK") {
				return
			}
		case "RCPT":
			if !reply("RCPT", "250 OK") {
				return
			}
		case "DATA":
			if !reply("DATA", "354 go ahead") {
				return
			}
			if _, found := f.replies["DATA"]; found {
				continue
			}
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			if !reply("EOM", "250 2.0.0 queued") {
				return
			}
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 5.5.2 command not recognized")
		}
	}
}

func TestSendFailureClassification(t *testing.T) {
	const password = "hunter2-Very-Secret"
	closedAddr := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}
	for _, tc := range []struct {
		name      string
		fake      *fakeSMTP // nil: nothing listens (connection refused)
		auth      bool
		wantRetry bool
		wantErr   string
	}{
		{"accepted", &fakeSMTP{}, false, false, ""},
		{"rcpt 451 temporary", &fakeSMTP{replies: map[string]string{"RCPT": "451 4.3.0 mailbox temporarily unavailable"}}, false, true, "451"},
		{"rcpt 550 refused", &fakeSMTP{replies: map[string]string{"RCPT": "550 5.1.1 no such user"}}, false, false, "550"},
		{"mail from 421 shutting down", &fakeSMTP{replies: map[string]string{"MAIL": "421 4.3.2 service shutting down"}}, false, true, "421"},
		{"data 554 rejected", &fakeSMTP{replies: map[string]string{"DATA": "554 5.7.1 rejected"}}, false, false, "554"},
		{"end of data 452 storage", &fakeSMTP{replies: map[string]string{"EOM": "452 4.3.1 insufficient storage"}}, false, true, "452"},
		{"end of data 552 too big", &fakeSMTP{replies: map[string]string{"EOM": "552 5.3.4 message too big"}}, false, false, "552"},
		{"auth 535 failed", &fakeSMTP{replies: map[string]string{"AUTH": "535 5.7.8 authentication failed"}, echoAuth: true}, true, false, "535"},
		{"auth 454 temporary", &fakeSMTP{replies: map[string]string{"AUTH": "454 4.7.0 temporary authentication failure"}, echoAuth: true}, true, true, "454"},
		{"hang up after MAIL", &fakeSMTP{hangUpOn: "MAIL"}, false, true, "via 127.0.0.1"},
		{"hang up at end of data", &fakeSMTP{hangUpOn: "EOM"}, true, true, "via 127.0.0.1"},
		{"connection refused", nil, true, true, "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := ""
			if tc.fake != nil {
				startFakeSMTP(t, tc.fake)
				addr = tc.fake.addr
			} else {
				addr = closedAddr(t)
			}
			host, port, _ := net.SplitHostPort(addr)
			p, _ := strconv.Atoi(port)
			cfg := Config{Host: host, Port: p, TLS: TLSNone, From: "kubedrift@example.org",
				To: []string{"a@example.org", "b@example.org"}, Timeout: 5 * time.Second}
			if tc.auth {
				cfg.Username, cfg.Password = "bot", password
			}
			n, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for what, send := range map[string]func() (bool, error){
				"digest": func() (bool, error) { return n.SendDigest(context.Background(), testDigest()) },
				"batch":  func() (bool, error) { return n.Notify(context.Background(), testBatch()) },
			} {
				retry, err := send()
				if tc.wantErr == "" {
					if err != nil || retry {
						t.Errorf("%s: retry=%v err=%v, want success", what, retry, err)
					}
					continue
				}
				if err == nil {
					t.Fatalf("%s: no error, want one containing %q", what, tc.wantErr)
				}
				if retry != tc.wantRetry {
					t.Errorf("%s: retry = %v, want %v (err: %v)", what, retry, tc.wantRetry, err)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("%s: error %q lacks %q", what, err, tc.wantErr)
				}
				for _, secret := range []string{password, b64(password), b64("\x00bot\x00" + password)} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("%s: error reveals the password (%q): %q", what, secret, err)
					}
				}
			}
		})
	}
}

func TestNotifyEmptyBatch(t *testing.T) {
	n, err := New(Config{Host: "127.0.0.1", Port: 1, TLS: TLSNone, From: "a@example.org", To: []string{"b@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing to say: no connection is attempted (port 1 would refuse).
	if retry, err := n.Notify(context.Background(), notify.Batch{ID: "empty"}); retry || err != nil {
		t.Errorf("Notify(empty) = %v, %v; want false, nil", retry, err)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
