package config

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/kubedrift/kubedrift/notify/email"
	"github.com/kubedrift/kubedrift/tracker"
)

var channelKeys = []string{"name", "type", "kinds", "min_severity", "clusters", "labels", "digest", "slack", "email", "webhook"}

// TLSModes lists the values email.tls accepts.
var TLSModes = []string{email.TLSStartTLS, email.TLSStartTLSOpportunistic, email.TLSImplicit, email.TLSNone}

func (p *parser) channels(f field, c *Config) {
	items, _ := p.list(f)
	seen := map[string]int{}
	for i, it := range items {
		if ch, ok := p.channel(i, f, it, seen); ok {
			c.Channels = append(c.Channels, ch)
		}
	}
}

// channelName finds the name before the other keys are read, so that every
// message about the channel names it whatever the key order.
func channelName(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k != nil && k.Value == "name" && v != nil && v.Kind == yaml.ScalarNode && !isNull(v) {
			return strings.TrimSpace(v.Value)
		}
	}
	return ""
}

func validName(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '"' })
}

func (p *parser) channel(idx int, list field, n *yaml.Node, seen map[string]int) (Channel, bool) {
	n = deref(n)
	start := list.valueLine()
	if n != nil && n.Line > 0 {
		start = n.Line
	}
	what := fmt.Sprintf("channels[%d]", idx)
	name := channelName(n)
	if validName(name) {
		what = fmt.Sprintf("channel %q", name)
	}
	before := len(p.errs) + p.dropped
	fs := p.fields(n, start, what, channelKeys, nil)
	if n == nil || n.Kind != yaml.MappingNode {
		return Channel{}, false
	}
	ch := Channel{Line: start, MinSeverity: tracker.SeverityInfo}
	blocks := map[string]field{}
	var hasName bool
	for _, g := range fs {
		switch g.key {
		case "name":
			hasName = true
			s, ok := p.str(g)
			switch {
			case !ok:
			case !validName(s):
				p.add(g.valueLine(), "%s: name must be non-empty, without quotes or control characters", what)
			default:
				if first, dup := seen[s]; dup {
					p.add(g.valueLine(), "%s: duplicate channel name (first at line %d)", what, first)
					continue
				}
				seen[s] = g.valueLine()
				ch.Name = s
			}
		case "type":
			ch.Type, _ = p.enum(g, "type", ChannelTypes)
		case "kinds":
			items, _ := p.list(g)
			for i, it := range items {
				h := field{key: g.key, path: fmt.Sprintf("%s[%d]", g.path, i), line: g.line, value: it}
				s, ok := p.str(h)
				if !ok {
					continue
				}
				k := tracker.AdvisoryKind(strings.ToLower(s))
				if !slices.Contains(tracker.AdvisoryKinds, k) {
					p.add(h.valueLine(), "%s: unknown kind %q (want one of %s)", g.path, s, join(tracker.AdvisoryKinds))
					continue
				}
				if !slices.Contains(ch.Kinds, k) {
					ch.Kinds = append(ch.Kinds, k)
				}
			}
		case "min_severity":
			if s, ok := p.enum(g, "severity", strs(tracker.Severities)); ok {
				ch.MinSeverity = tracker.Severity(s)
			}
		case "clusters":
			ch.Clusters, _ = p.strList(g)
		case "labels":
			ch.Labels, _ = p.strMap(g)
		case "digest":
			ch.Digest, _ = p.boolean(g)
		case "slack", "email", "webhook":
			blocks[g.key] = g
		}
	}
	if !hasName {
		p.add(start, "%s: missing name", what)
	}
	typeKnown := ch.Type != ""
	if !typeKnown && !slices.ContainsFunc(fs, func(g field) bool { return g.key == "type" }) {
		p.add(start, "%s: missing type (want one of %s)", what, strings.Join(ChannelTypes, ", "))
	}
	for _, key := range []string{"slack", "email", "webhook"} {
		g, ok := blocks[key]
		switch {
		case !ok:
			if ch.Type == key {
				p.add(start, "%s: missing destination: type %s needs a %s: block", what, key, key)
			}
			continue
		case typeKnown && ch.Type != key:
			p.add(g.line, "%s: %s: block does not match type %s", what, key, ch.Type)
			continue
		}
		switch key {
		case "slack":
			ch.Slack = p.slack(g)
		case "email":
			ch.Email = p.email(g)
		case "webhook":
			ch.Webhook = p.webhook(g)
		}
	}
	if ch.Digest && typeKnown && ch.Type != TypeEmail {
		line := start
		for _, g := range fs {
			if g.key == "digest" {
				line = g.valueLine()
			}
		}
		p.add(line, "%s: digest: only email channels receive the digest", what)
	}
	if len(ch.Kinds) == 0 {
		ch.Kinds = slices.Clone(tracker.AdvisoryKinds)
	}
	return ch, len(p.errs)+p.dropped == before
}

func join[S ~string](xs []S) string { return strings.Join(strs(xs), ", ") }

func strs[S ~string](xs []S) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// secretPair reads the *_file and *_env keys of one secret; it reports both
// being set.
type secretPair struct{ file, env *field }

func (s *secretPair) set() bool { return s.file != nil || s.env != nil }

var slackKeys = []string{"webhook_url_file", "webhook_url_env", "token_file", "token_env", "channel", "api_url", "username", "icon_emoji"}

func (p *parser) slack(f field) *Slack {
	s := &Slack{}
	var hook, tok secretPair
	var apiURL *field
	for _, g := range p.fields(f.value, f.line, f.path, slackKeys, map[string]string{"webhook_url": "webhook_url", "token": "token", "url": "webhook_url"}) {
		switch g.key {
		case "webhook_url_file":
			hook.file = &g
			s.WebhookURLFile, _ = p.secretSource(g)
		case "webhook_url_env":
			hook.env = &g
			s.WebhookURLEnv, _ = p.secretSource(g)
		case "token_file":
			tok.file = &g
			s.TokenFile, _ = p.secretSource(g)
		case "token_env":
			tok.env = &g
			s.TokenEnv, _ = p.secretSource(g)
		case "channel":
			s.Channel, _ = p.str(g)
		case "api_url":
			apiURL = &g
			s.APIURL, _ = p.httpURL(g, true)
		case "username":
			s.Username, _ = p.str(g)
		case "icon_emoji":
			s.IconEmoji, _ = p.str(g)
		}
	}
	p.oneOf(f.path, hook.file, hook.env)
	p.oneOf(f.path, tok.file, tok.env)
	switch {
	case hook.set() && tok.set():
		p.add(f.line, "%s: set a webhook URL or a token, not both", f.path)
	case !hook.set() && !tok.set() && !hasKey(f.value, "webhook_url", "token", "url"):
		p.add(f.line, "%s: missing destination: set webhook_url_file, webhook_url_env, token_file or token_env", f.path)
	case tok.set() && s.Channel == "":
		p.add(f.line, "%s: token_file/token_env need channel (the Slack channel to post to)", f.path)
	case hook.set() && apiURL != nil && s.APIURL != "":
		p.add(apiURL.line, "%s: api_url applies to token mode only", f.path)
	}
	return s
}

var emailKeys = []string{"host", "port", "tls", "username", "password_file", "password_env", "from", "to", "subject_prefix"}

func (p *parser) email(f field) *Email {
	e := &Email{}
	var pw secretPair
	for _, g := range p.fields(f.value, f.line, f.path, emailKeys, map[string]string{"password": "password"}) {
		switch g.key {
		case "host":
			e.Host, _ = p.str(g)
		case "port":
			e.Port, _ = p.integer(g, 1, 65535)
		case "tls":
			e.TLS, _ = p.enum(g, "TLS mode", TLSModes)
		case "username":
			e.Username, _ = p.str(g)
		case "password_file":
			pw.file = &g
			e.PasswordFile, _ = p.secretSource(g)
		case "password_env":
			pw.env = &g
			e.PasswordEnv, _ = p.secretSource(g)
		case "from":
			s, ok := p.str(g)
			if ok && s != "" {
				if _, err := mail.ParseAddress(s); err != nil {
					p.add(g.valueLine(), "%s: invalid address %q: %v", g.path, s, err)
				}
				e.From = s
			}
		case "to":
			to, _ := p.strList(g)
			for i, s := range to {
				if _, err := mail.ParseAddress(s); err != nil {
					p.add(p.lines[fmt.Sprintf("%s[%d]", g.path, i)], "%s: invalid address %q: %v", g.path, s, err)
				}
			}
			e.To = to
		case "subject_prefix":
			e.SubjectPrefix, _ = p.str(g)
		}
	}
	p.oneOf(f.path, pw.file, pw.env)
	if e.Host == "" {
		p.add(f.line, "%s: missing destination: set host (the SMTP server)", f.path)
	}
	if len(e.To) == 0 {
		p.add(f.line, "%s: missing destination: set to (at least one recipient)", f.path)
	}
	if e.From == "" {
		p.add(f.line, "%s: missing from (the sender address)", f.path)
	}
	if pw.set() && e.Username == "" {
		p.add(f.line, "%s: a password needs username", f.path)
	}
	return e
}

func (p *parser) webhook(f field) *Webhook {
	w := &Webhook{}
	var u, sec secretPair
	for _, g := range p.fields(f.value, f.line, f.path, []string{"url_file", "url_env", "secret_file", "secret_env"}, map[string]string{"url": "url", "secret": "secret"}) {
		switch g.key {
		case "url_file":
			u.file = &g
			w.URLFile, _ = p.secretSource(g)
		case "url_env":
			u.env = &g
			w.URLEnv, _ = p.secretSource(g)
		case "secret_file":
			sec.file = &g
			w.SecretFile, _ = p.secretSource(g)
		case "secret_env":
			sec.env = &g
			w.SecretEnv, _ = p.secretSource(g)
		}
	}
	p.oneOf(f.path, u.file, u.env)
	p.oneOf(f.path, sec.file, sec.env)
	if !u.set() && !hasKey(f.value, "url") {
		p.add(f.line, "%s: missing destination: set url_file or url_env", f.path)
	}
	if !sec.set() && !hasKey(f.value, "secret") {
		p.add(f.line, "%s: missing secret: set secret_file or secret_env (receivers check the signature with it)", f.path)
	}
	return w
}
