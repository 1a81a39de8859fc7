package changelog

import (
	"strings"

	"github.com/kubedrift/kubedrift/tracker"
)

// Classify derives kubedrift's own kinds for a note: it merges the CVE ids
// mentioned in n.Text into n.CVEs (sorted, unique, never nil), adds security
// when the note names a CVE or carries a security entry, and adds removal when
// a sentence of the text says something stops existing or being served.
// It only adds kinds: kinds from upstream's sections are upstream's word.
func Classify(n *tracker.Note) {
	if n == nil {
		return
	}
	n.CVEs = cvesIn(n.Text, n.CVEs)
	if n.Kinds == nil {
		n.Kinds = []tracker.Kind{}
	}
	if len(n.CVEs) > 0 || n.Security != nil {
		n.AddKind(tracker.KindSecurity)
	}
	if IsRemoval(n.Text) {
		n.AddKind(tracker.KindRemoval)
	}
}

// The removal classifier reads one sentence at a time, as words. A sentence
// is a removal when it states, in the past or present tense, that a thing
// users depend on (API version, flag, plugin, feature gate, field, command,
// support ...) was removed or is no longer served, and it is not a cleanup
// (a dependency, a log line, a bug), a plan ("will be removed") or a
// condition ("when the node is removed"). Three forms count:
//
//	passive:   "<subject> is/was/has been [completely] removed|dropped|deleted"
//	no longer: "... no longer served|supported|available ..."
//	leading:   "[component:] Removed|Drops|Delete <object>"
//
// Code spans, flags and dotted names are masked first ("`code`", "--flag",
// "ident") so a flag called --log-dir does not read as the word "log".

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

var (
	removedWords = set("removed", "dropped", "deleted")
	leadingVerbs = set("removed", "removes", "remove", "removing", "dropped", "drops", "drop", "deleted", "deletes", "delete")
	auxWords     = set("is", "are", "was", "were", "been", "got", "gets", "get", "now")
	advWords     = set("now", "completely", "fully", "officially", "partially", "entirely", "finally", "also", "permanently")
	modalWords   = set("will", "would", "should", "could", "might", "may", "can", "must", "shall", "to")
	planSkip     = set("not", "also", "eventually", "then", "now", "be", "been", "have", "get", "completely", "fully", "finally", "soon", "likely", "probably")
	noLongerObj  = set("served", "supported", "support", "supports", "available", "exist", "exists", "accepted", "accept", "accepts",
		"recognized", "recognised", "recognizes", "recognises", "honored", "honoured", "honors", "honours", "shipped", "ships",
		"built", "published", "provided", "provides", "included", "includes", "registered")
	// Things a user depends on, named as the subject of a passive removal.
	subjectWords = set("api", "apis", "apiversion", "flag", "flags", "plugin", "plugins", "gate", "gates", "featuregate", "featuregates",
		"field", "fields", "command", "commands", "subcommand", "subcommands", "sub-command", "sub-commands", "support",
		"annotation", "annotations", "option", "options", "parameter", "parameters", "argument", "arguments",
		"endpoint", "endpoints", "label", "labels", "resource", "resources", "deprecated", "admission", "provider",
		"volume", "driver", "metric", "metrics", "binary", "binaries", "image", "images", "kind", "kinds",
		"type", "types", "in-tree", "intree", "cli", "kubectl", "mode", "format", "`code`", "--flag")
	// The object of a leading verb must be named by kind, not just quoted:
	// "Removed branch `x` from the bot" is housekeeping.
	objectWords = set("api", "apis", "flag", "flags", "plugin", "plugins", "gate", "gates", "featuregate", "featuregates",
		"field", "fields", "command", "commands", "subcommand", "subcommands", "sub-command", "sub-commands", "support",
		"annotation", "annotations", "option", "options", "parameter", "parameters", "argument", "arguments",
		"endpoint", "endpoints", "deprecated", "metric", "metrics", "in-tree", "intree", "--flag")
	// Words that make a removal something else: cleanup, fix, housekeeping.
	negativeWords = set("dependency", "dependencies", "unnecessary", "redundant", "duplicate", "duplicated", "duplicates",
		"unused", "bug", "bugs", "workaround", "workarounds", "restriction", "restrictions", "limitation", "limitations",
		"requirement", "requirements", "race", "leak", "leaks", "warning", "warnings", "log", "logs", "logging",
		"noise", "spam", "overhead", "panic", "panics", "crash", "crashes", "fix", "fixed", "fixes", "fixing",
		"regression", "typo", "typos", "comment", "comments", "test", "tests", "e2e", "vendor", "vendored", "cache",
		"finalizer", "finalizers", "taint", "taints", "toleration", "temporary", "temp", "stale", "orphaned",
		"leftover", "limit", "check", "checks", "validation", "bot", "prow", "ci", "job", "jobs", "branch", "branches")
	// Conditions and reasons: "when the node is removed", "given X was removed".
	condWords = set("when", "whenever", "if", "once", "unless", "until", "whether", "where", "while", "before", "given", "because")
)

// IsRemoval reports whether text states that a feature, API version, flag,
// plugin or similar was removed or is no longer served.
func IsRemoval(text string) bool {
	t := text
	// Most notes name no trigger word at all; skip the sentence work then.
	if !hasTrigger(t) {
		return false
	}
	var words []string
	for len(t) > 0 {
		s := t
		if i := sentenceEnd(t); i >= 0 {
			s, t = t[:i], t[i:]
		} else {
			t = ""
		}
		if !hasTrigger(s) {
			continue
		}
		words = sentenceWords(strings.ToLower(s), words[:0])
		if removalWords(words) {
			return true
		}
	}
	return false
}

// hasTrigger reports, without allocating, whether s holds one of the words
// every removal form needs. It runs on every note, so it uses the
// vectorised strings.Contains on the common spellings.
func hasTrigger(s string) bool {
	return strings.Contains(s, "emov") || strings.Contains(s, "EMOV") ||
		strings.Contains(s, "o longer") || strings.Contains(s, "O LONGER") ||
		strings.Contains(s, "drop") || strings.Contains(s, "Drop") || strings.Contains(s, "DROP") ||
		strings.Contains(s, "elet") || strings.Contains(s, "ELET")
}

// sentenceEnd is the offset where the first sentence of s ends: after
// ".", ";", "!" or "?" followed by white space, before a blank line or a
// list item; -1 when s is one sentence.
func sentenceEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.', ';', '!', '?':
			if i+1 < len(s) && (s[i+1] == ' ' || s[i+1] == '\n' || s[i+1] == '\t') {
				return i + 1
			}
		case '\n':
			j := i + 1
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			if j < len(s) && (s[j] == '\n' || ((s[j] == '-' || s[j] == '*') && j+1 < len(s) && s[j+1] == ' ')) {
				return j
			}
		}
	}
	return -1
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '\'' || c >= 0x80
}

// sentenceWords splits a lower-cased sentence into words, masking code spans
// as "`code`", flags as "--flag" and dotted or slashed names as "ident",
// dropping link targets, and stopping at the note's own "(#123" reference.
// ":" is kept as a word so a "component:" prefix can be recognised.
func sentenceWords(s string, out []string) []string {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '`':
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				return append(out, "`code`")
			}
			out = append(out, "`code`")
			i += j + 2
		case c == ']' && i+1 < len(s) && s[i+1] == '(':
			j := strings.IndexByte(s[i:], ')')
			if j < 0 {
				return out
			}
			i += j + 1
		case c == '(':
			j := i + 1
			for j < len(s) && (s[j] == ' ' || s[j] == '[') {
				j++
			}
			if j+1 < len(s) && s[j] == '#' && s[j+1] >= '0' && s[j+1] <= '9' {
				return out
			}
			i++
		case c == ':':
			out = append(out, ":")
			i++
		case c == '-' && (i == 0 || !isWordByte(s[i-1])) && i+1 < len(s) && (s[i+1] == '-' || s[i+1] >= 'a' && s[i+1] <= 'z'):
			j := i + 1
			for j < len(s) && (isWordByte(s[j]) || s[j] == '.' || s[j] == '=') {
				j++
			}
			out = append(out, "--flag")
			i = j
		case isWordByte(c):
			j, ident := i, false
			for j < len(s) {
				if isWordByte(s[j]) {
					j++
					continue
				}
				if (s[j] == '.' || s[j] == '/') && j+1 < len(s) && isWordByte(s[j+1]) {
					ident = true
					j++
					continue
				}
				break
			}
			w := s[i:j]
			if ident {
				w = "ident"
			}
			out = append(out, w)
			i = j
		default:
			i++
		}
	}
	return out
}

func anyIn(words []string, m map[string]bool) bool {
	for _, w := range words {
		if m[w] {
			return true
		}
	}
	return false
}

// isPlan reports whether the removal verb at i is preceded by a modal:
// "will be removed", "is planned to be removed", "they'll be dropped".
func isPlan(words []string, i int) bool {
	for j := i - 1; j >= 0 && j >= i-4; j-- {
		w := words[j]
		if modalWords[w] || strings.HasSuffix(w, "'ll") || strings.HasSuffix(w, "'d") {
			return true
		}
		if w == "longer" {
			return true // "no longer removed"
		}
		if !planSkip[w] {
			return false
		}
	}
	return false
}

// removalWords applies the rules to one sentence's words.
func removalWords(words []string) bool {
	if len(words) == 0 || anyIn(words, negativeWords) {
		return false
	}
	// A plan anywhere in the sentence wins: "X is deprecated and will be removed".
	for i, w := range words {
		switch {
		case removedWords[w] && isPlan(words, i):
			return false
		case w == "longer" && i > 0 && words[i-1] == "no" && i > 1 && isPlan(words, i-1):
			return false
		case w == "future" && i > 0 && (words[i-1] == "in" || i > 1 && words[i-2] == "in"):
			return false
		case w == "dead" && i+1 < len(words) && words[i+1] == "code":
			return false
		}
	}
	for i, w := range words {
		switch {
		case removedWords[w]:
			j := i - 1
			for j >= 0 && advWords[words[j]] && words[j] != "now" {
				j--
			}
			if j >= 0 && auxWords[words[j]] {
				if subj := words[:j]; !anyIn(subj, condWords) && hasSubject(subj) {
					return true
				}
			}
		case w == "longer" && i > 0 && words[i-1] == "no":
			k := i + 1
			if k < len(words) && words[k] == "be" {
				k++
			}
			if k < len(words) && noLongerObj[words[k]] && !anyIn(words[:i-1], condWords) {
				return true
			}
		}
	}
	// Leading verb, after an optional "component:" prefix of a few words.
	start := 0
	for k := 0; k < len(words) && k < 6; k++ {
		if words[k] == ":" {
			start = k + 1
			break
		}
	}
	if start < len(words) && leadingVerbs[words[start]] {
		obj := words[start+1:]
		for k := 0; k+1 < len(obj); k++ {
			if obj[k] == "from" && obj[k+1] == "being" {
				return false
			}
		}
		return anyIn(obj, objectWords) || hasAPIVersion(obj)
	}
	return false
}

func hasSubject(words []string) bool { return anyIn(words, subjectWords) || hasAPIVersion(words) }

// hasAPIVersion finds an API version word such as v1beta1 or v2alpha1.
func hasAPIVersion(words []string) bool {
	for _, w := range words {
		if len(w) < 4 || w[0] != 'v' || w[1] < '0' || w[1] > '9' {
			continue
		}
		if strings.Contains(w, "alpha") || strings.Contains(w, "beta") {
			return true
		}
	}
	return false
}
