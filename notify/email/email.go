package email

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/kubedrift/kubedrift/notify"
)

// TLS modes of Config.TLS.
const (
	// TLSStartTLS upgrades the connection with STARTTLS and fails when the
	// server does not offer it. The default.
	TLSStartTLS = "starttls"
	// TLSStartTLSOpportunistic uses STARTTLS when offered and sends in clear
	// text otherwise: anyone on the path can read or alter the mail.
	TLSStartTLSOpportunistic = "starttls-opportunistic"
	// TLSImplicit connects with TLS from the first byte (SMTPS, port 465).
	TLSImplicit = "tls"
	// TLSNone never encrypts. Only for a relay on the same host or a test
	// server on loopback: mail content crosses the network readable and
	// alterable, so credentials are refused unless the host is loopback.
	TLSNone = "none"
)

// Default ports per TLS mode, and the default timeout.
const (
	DefaultSubmissionPort = 587
	DefaultSMTPSPort      = 465
	DefaultRelayPort      = 25
	DefaultTimeout        = 30 * time.Second
)

// Config configures the email channel.
type Config struct {
	Host string
	// Port defaults to 587 (STARTTLS), 465 (implicit TLS) or 25 (none).
	Port int
	// TLS is one of the TLS* modes; "" means TLSStartTLS.
	TLS string
	// Username and Password enable SMTP AUTH (the strongest mechanism the
	// server offers; PLAIN and LOGIN only over TLS). Password is a secret: it
	// never appears in errors.
	Username string
	Password string
	// From is the sender, To the recipients (at least one); RFC 5322
	// addresses, with or without display names.
	From string
	To   []string
	// SubjectPrefix starts every subject; "" means DefaultSubjectPrefix.
	SubjectPrefix string
	// Timeout bounds connecting and each SMTP exchange; 0 means DefaultTimeout.
	Timeout time.Duration
}

// String describes the configuration without the password, so a logged
// config never reveals it.
func (c Config) String() string {
	pw := ""
	if c.Password != "" {
		pw = "[redacted]"
	}
	return fmt.Sprintf("{Host:%s Port:%d TLS:%s Username:%s Password:%s From:%s To:%v SubjectPrefix:%s Timeout:%s}",
		c.Host, c.Port, c.TLS, c.Username, pw, c.From, c.To, c.SubjectPrefix, c.Timeout)
}

// LogValue is String for log/slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Notifier sends advisory batches and the weekly digest by SMTP. It is safe
// for concurrent use: every send uses its own connection.
type Notifier struct {
	cfg    Config
	from   *mail.Address
	to     []*mail.Address
	prefix string
	opts   []gomail.Option
	// plain is set for TLSNone.
	plain bool
	// implicit is set for TLSImplicit, where go-mail dials TLS itself.
	implicit bool
	// now stamps the Date header; a field so tests can fix it.
	now func() time.Time
	// rootCAs replaces the system roots when set: a seam for tests with a
	// self-signed server certificate.
	rootCAs *x509.CertPool
}

var _ notify.Notifier = (*Notifier)(nil)

// New validates cfg (addresses, port, TLS mode, credentials) and returns a
// Notifier. It does not connect.
func New(cfg Config) (*Notifier, error) {
	n := &Notifier{cfg: cfg, now: time.Now, prefix: cfg.SubjectPrefix}
	if n.prefix == "" {
		n.prefix = DefaultSubjectPrefix
	}
	if strings.TrimSpace(cfg.Host) == "" || strings.ContainsAny(cfg.Host, " \t\r\n/@") ||
		(strings.Contains(cfg.Host, ":") && net.ParseIP(cfg.Host) == nil) {
		return nil, fmt.Errorf("email config: host %q: must be a host name or IP address (the port goes in port)", cfg.Host)
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("email config: port %d: must be between 1 and 65535", cfg.Port)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("email config: timeout %s: must not be negative", cfg.Timeout)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email config: from %q: %w", cfg.From, err)
	}
	n.from = from
	if len(cfg.To) == 0 {
		return nil, errors.New("email config: to: at least one recipient is required")
	}
	for i, s := range cfg.To {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return nil, fmt.Errorf("email config: to[%d] %q: %w", i, s, err)
		}
		n.to = append(n.to, a)
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("email config: password set without username")
	}

	port := cfg.Port
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	n.opts = []gomail.Option{gomail.WithTimeout(timeout)}
	switch cfg.TLS {
	case "", TLSStartTLS:
		n.opts = append(n.opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		port = cmp.Or(port, DefaultSubmissionPort)
	case TLSStartTLSOpportunistic:
		n.opts = append(n.opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
		port = cmp.Or(port, DefaultSubmissionPort)
	case TLSImplicit:
		n.opts = append(n.opts, gomail.WithSSL())
		port = cmp.Or(port, DefaultSMTPSPort)
		n.implicit = true
	case TLSNone:
		if cfg.Username != "" && !loopback(cfg.Host) {
			return nil, fmt.Errorf("email config: tls %q with credentials for host %q: the password would cross the network in clear text; use starttls or tls", cfg.TLS, cfg.Host)
		}
		n.opts = append(n.opts, gomail.WithTLSPolicy(gomail.NoTLS))
		port = cmp.Or(port, DefaultRelayPort)
		n.plain = true
	default:
		return nil, fmt.Errorf("email config: tls %q: must be one of %s, %s, %s, %s", cfg.TLS, TLSStartTLS, TLSStartTLSOpportunistic, TLSImplicit, TLSNone)
	}
	n.cfg.Port = port
	n.opts = append(n.opts, gomail.WithPort(port))
	switch {
	case cfg.Username != "" && n.plain:
		// Loopback only (checked above): the password never leaves the host,
		// so PLAIN and LOGIN are acceptable after the challenge mechanisms.
		n.opts = append(n.opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1,
			gomail.SMTPAuthCramMD5, gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc))
	case cfg.Username != "":
		// Auto-discovery picks the strongest mechanism offered and never sends
		// PLAIN or LOGIN over an unencrypted connection (a server that did not
		// offer STARTTLS in opportunistic mode).
		n.opts = append(n.opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover))
	}
	if cfg.Username != "" {
		n.opts = append(n.opts, gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	if _, err := gomail.NewClient(cfg.Host, n.opts...); err != nil {
		return nil, n.scrub(fmt.Errorf("email config: %w", err))
	}
	return n, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Notify sends an advisory batch as one email. An empty batch sends nothing.
// It returns whether a failure is worth retrying (SMTP 4xx, connection
// errors) or permanent (5xx: refused address, failed authentication).
func (n *Notifier) Notify(ctx context.Context, b notify.Batch) (bool, error) {
	if len(b.Advisories) == 0 {
		return false, nil
	}
	subj, text, html, err := renderBatch(b, n.prefix)
	if err != nil {
		return false, fmt.Errorf("email: %w", err)
	}
	id := ""
	if b.ID != "" {
		id = "batch-" + b.ID
	}
	return n.send(ctx, "batch "+strconv.Quote(b.ID), id, subj, text, html)
}

// SendDigest sends the weekly digest, with the same retry classification as
// Notify.
func (n *Notifier) SendDigest(ctx context.Context, d notify.Digest) (bool, error) {
	subj, text, html, err := renderDigest(d, n.prefix)
	if err != nil {
		return false, fmt.Errorf("email: %w", err)
	}
	id := "digest-" + d.GeneratedAt.UTC().Format(time.RFC3339)
	return n.send(ctx, "digest of "+d.GeneratedAt.UTC().Format(dayLayout), id, subj, text, html)
}

func (n *Notifier) send(ctx context.Context, what, key, subj, text, html string) (bool, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	m.FromMailAddress(n.from)
	m.ToMailAddress(n.to...)
	m.Subject(subj)
	m.SetDateWithValue(n.now())
	m.SetMessageIDWithValue(n.messageID(key))
	m.SetUserAgent("kubedrift")
	// Tell vacation responders and ticket systems not to answer a robot.
	m.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	m.SetBulk()
	m.SetBodyString(gomail.TypeTextPlain, text)
	m.AddAlternativeString(gomail.TypeTextHTML, html)

	opts := slices.Clone(n.opts)
	if n.rootCAs != nil {
		opts = append(opts, gomail.WithTLSConfig(&tls.Config{ServerName: n.cfg.Host, RootCAs: n.rootCAs, MinVersion: tls.VersionTLS12}))
	}
	var conns connTracker
	if !n.implicit {
		// go-mail leaves the connection open when the greeting, STARTTLS or
		// AUTH fails; track it so a failing server cannot leak descriptors
		// across retries. (With implicit TLS go-mail must dial itself to know
		// the connection is encrypted.)
		opts = append(opts, gomail.WithDialContextFunc(conns.dial))
	}
	defer conns.closeAll()
	c, err := gomail.NewClient(n.cfg.Host, opts...)
	if err != nil {
		return false, n.scrub(fmt.Errorf("email: send %s: %w", what, err))
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return retryable(err), n.scrub(fmt.Errorf("email: send %s to %s via %s: %w",
			what, plural(len(n.to), "recipient", "recipients"), net.JoinHostPort(n.cfg.Host, strconv.Itoa(n.cfg.Port)), err))
	}
	return false, nil
}

// connTracker dials like go-mail's default dialer and remembers the
// connections so they can be closed whatever happened.
type connTracker struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (t *connTracker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.conns = append(t.conns, c)
	t.mu.Unlock()
	return c, nil
}

func (t *connTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.conns {
		_ = c.Close() // already closed after a clean QUIT
	}
}

// messageID derives the Message-ID from the batch or digest key, so a retried
// delivery that did reach a mailbox is recognisable as the same message; the
// recipients are part of the hash because each channel is its own message.
func (n *Notifier) messageID(key string) string {
	domain := "kubedrift.invalid"
	if i := strings.LastIndexByte(n.from.Address, '@'); i >= 0 && i < len(n.from.Address)-1 {
		domain = n.from.Address[i+1:]
	}
	if key == "" {
		key = strconv.FormatInt(n.now().UnixNano(), 10)
	}
	h := sha256.New()
	io.WriteString(h, key)
	for _, a := range n.to {
		io.WriteString(h, "\x00"+a.Address)
	}
	return "kubedrift." + hex.EncodeToString(h.Sum(nil)[:12]) + "@" + domain
}

// retryable classifies a send failure: SMTP 4xx replies and broken or
// refused connections are transient; 5xx replies (a refused recipient, failed
// authentication) and local problems (a bad address, TLS verification) are
// permanent and are surfaced instead of retried.
func retryable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		if code := se.ErrorCode(); code != 0 {
			return code >= 400 && code < 500
		}
		if se.IsTemp() {
			return true
		}
		switch se.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			return false
		}
		// The conversation broke off without a reply code: a connection error.
		return true
	}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code >= 400 && tp.Code < 500
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// scrub makes sure the password, and its encodings as sent in SMTP AUTH, can
// never reach a log through an error, whatever a server echoes back.
func (n *Notifier) scrub(err error) error {
	if err == nil || n.cfg.Password == "" {
		return err
	}
	msg := err.Error()
	clean := msg
	for _, s := range n.secrets() {
		clean = strings.ReplaceAll(clean, s, "[redacted]")
	}
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean}
}

func (n *Notifier) secrets() []string {
	p, u := n.cfg.Password, n.cfg.Username
	enc := base64.StdEncoding.EncodeToString
	return []string{
		enc([]byte("\x00" + u + "\x00" + p)), // AUTH PLAIN
		enc([]byte(p)),                       // AUTH LOGIN
		p,
	}
}

// redactedError replaces an error whose text carried the secret. It does not
// unwrap: the cause would give the secret back; retries are classified
// before scrubbing.
type redactedError struct{ msg string }

func (e *redactedError) Error() string { return e.msg }
