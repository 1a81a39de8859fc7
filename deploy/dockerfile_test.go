package deploy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// repoRoot is where the Dockerfile and .dockerignore live.
const repoRoot = ".."

// instruction is one Dockerfile instruction with its line continuations
// joined.
type instruction struct {
	line int
	cmd  string // upper case: FROM, RUN ...
	args string
}

// stage is one build stage: its FROM and what follows it.
type stage struct {
	from  instruction
	image string
	name  string
	body  []instruction
}

// parseDockerfile splits a Dockerfile into stages. Errors name the line.
func parseDockerfile(file string) ([]stage, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", file, err)
	}
	defer f.Close()
	var (
		stages  []stage
		pending strings.Builder
		start   int
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if pending.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if pending.Len() == 0 {
			start = n
		}
		if strings.HasPrefix(line, "#") {
			continue // a comment inside a continued instruction
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending.WriteString(cont + " ")
			continue
		}
		pending.WriteString(line)
		cmd, args, _ := strings.Cut(pending.String(), " ")
		pending.Reset()
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.Join(strings.Fields(args), " ")}
		if in.cmd == "FROM" {
			fields := strings.Fields(in.args)
			var rest []string
			for _, f := range fields {
				if !strings.HasPrefix(f, "--") {
					rest = append(rest, f)
				}
			}
			if len(rest) == 0 {
				return nil, fmt.Errorf("%s:%d: FROM without an image", file, n)
			}
			st := stage{from: in, image: rest[0]}
			if len(rest) == 3 && strings.EqualFold(rest[1], "AS") {
				st.name = rest[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				return nil, fmt.Errorf("%s:%d: %s before the first FROM", file, start, in.cmd)
			}
			continue
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if pending.Len() != 0 {
		return nil, fmt.Errorf("%s:%d: instruction continued past the end of the file", file, start)
	}
	return stages, nil
}

// last returns the last instruction cmd of a stage.
func (s stage) last(cmd string) (instruction, bool) {
	for i := len(s.body) - 1; i >= 0; i-- {
		if s.body[i].cmd == cmd {
			return s.body[i], true
		}
	}
	return instruction{}, false
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.body {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// execForm decodes a JSON-array (exec form) argument.
func execForm(in instruction) ([]string, error) {
	var v []string
	if err := json.Unmarshal([]byte(in.args), &v); err != nil {
		return nil, fmt.Errorf("line %d: %s %s is not in exec form: %w", in.line, in.cmd, in.args, err)
	}
	return v, nil
}

func TestDockerfile(t *testing.T) {
	file := filepath.Join(repoRoot, "Dockerfile")
	stages, err := parseDockerfile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) < 2 {
		t.Fatalf("%s: %d stages, want a build stage and a runtime stage", file, len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	t.Run("build stage", func(t *testing.T) {
		if build.image != "golang:1.26" || build.name == "" {
			t.Errorf("line %d: FROM %s AS %q, want golang:1.26 with a stage name", build.from.line, build.image, build.name)
		}
		args := map[string]bool{}
		for _, in := range build.all("ARG") {
			name, _, _ := strings.Cut(in.args, "=")
			args[name] = true
		}
		for _, a := range []string{"VERSION", "COMMIT"} {
			if !args[a] {
				t.Errorf("build stage has no ARG %s", a)
			}
		}
		var compile *instruction
		for _, in := range build.all("RUN") {
			if strings.Contains(in.args, "go build") {
				compile = &in
			}
		}
		if compile == nil {
			t.Fatalf("build stage runs no go build")
		}
		for _, want := range []string{
			"--mount=type=cache,target=/go/pkg/mod", "CGO_ENABLED=0", "-trimpath",
			"-X main.version=${VERSION}", "-X main.commit=${COMMIT}", "./cmd/kubedrift", "-o /out/kubedrift",
		} {
			if !strings.Contains(compile.args, want) {
				t.Errorf("line %d: go build lacks %q", compile.line, want)
			}
		}
		if _, err := os.Stat(filepath.Join(repoRoot, "cmd", "kubedrift", "main.go")); err != nil {
			t.Errorf("the build target ./cmd/kubedrift: %v", err)
		}
	})

	t.Run("runtime stage", func(t *testing.T) {
		if final.image != "gcr.io/distroless/static-debian12:nonroot" {
			t.Errorf("line %d: final FROM %s, want gcr.io/distroless/static-debian12:nonroot", final.from.line, final.image)
		}
		if runs := final.all("RUN"); len(runs) != 0 {
			t.Errorf("line %d: RUN in the runtime stage; distroless has no shell", runs[0].line)
		}
		user, ok := final.last("USER")
		if !ok {
			t.Fatalf("runtime stage sets no USER")
		}
		// Numeric, so the kubelet can verify runAsNonRoot without /etc/passwd.
		if uid, _, _ := strings.Cut(user.args, ":"); uid != "65532" {
			t.Errorf("line %d: USER %s, want 65532", user.line, user.args)
		}
		entry, ok := final.last("ENTRYPOINT")
		if !ok {
			t.Fatalf("runtime stage has no ENTRYPOINT")
		}
		if got, err := execForm(entry); err != nil || len(got) != 1 || got[0] != "/kubedrift" {
			t.Errorf("ENTRYPOINT %v (%v), want [/kubedrift]", got, err)
		}
		cmd, ok := final.last("CMD")
		if !ok {
			t.Fatalf("runtime stage has no CMD")
		}
		want := []string{"serve", "--config", "/etc/kubedrift/kubedrift.yaml"}
		if got, err := execForm(cmd); err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("CMD %v (%v), want %v", got, err, want)
		}
		copied := false
		for _, in := range final.all("COPY") {
			f := strings.Fields(in.args)
			if strings.Contains(in.args, "--from="+build.name) && f[len(f)-1] == "/kubedrift" {
				copied = true
			}
		}
		if !copied {
			t.Errorf("runtime stage does not COPY --from=%s the binary to /kubedrift", build.name)
		}
		if e, ok := final.last("EXPOSE"); !ok || !strings.Contains(" "+e.args+" ", " 9090 ") {
			t.Errorf("runtime stage does not EXPOSE 9090")
		}
		v, ok := final.last("VOLUME")
		if !ok {
			t.Fatalf("runtime stage declares no VOLUME")
		}
		if got, err := execForm(v); err != nil || len(got) != 1 || got[0] != "/var/lib/kubedrift" {
			t.Errorf("VOLUME %v (%v), want [/var/lib/kubedrift]", got, err)
		}
	})
}

// dockerignore is a .dockerignore's patterns, matched the way docker does:
// anchored at the context root, * within one path element, ** across
// elements, a matching directory excluding all below it, later patterns
// (and ! exceptions) winning.
type dockerignore []struct {
	re     *regexp.Regexp
	except bool
}

func loadDockerignore(file string) (dockerignore, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	var out dockerignore
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		except := strings.HasPrefix(line, "!")
		p := path.Clean(strings.TrimPrefix(strings.TrimPrefix(line, "!"), "/"))
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch {
			case strings.HasPrefix(p[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				re.WriteString(".*")
				i++
			case p[i] == '*':
				re.WriteString("[^/]*")
			case p[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		}
		re.WriteString("$")
		rx, err := regexp.Compile(re.String())
		if err != nil {
			return nil, fmt.Errorf("%s:%d: pattern %q: %w", file, n+1, line, err)
		}
		out = append(out, struct {
			re     *regexp.Regexp
			except bool
		}{rx, except})
	}
	return out, nil
}

// excluded reports whether the slash-separated path p stays out of the build
// context.
func (d dockerignore) excluded(p string) bool {
	out := false
	for _, pat := range d {
		for q := p; q != "." && q != "/"; q = path.Dir(q) {
			if pat.re.MatchString(q) {
				out = !pat.except
				break
			}
		}
	}
	return out
}

var embedLine = regexp.MustCompile(`^//go:embed\s+(.+)$`)

func TestDockerignore(t *testing.T) {
	ign, err := loadDockerignore(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	// What go build ./cmd/kubedrift reads: the module files, every non-test
	// Go file and every file a //go:embed names.
	need := []string{"go.mod", "go.sum"}
	for _, dir := range []string{"cmd", "tracker", "feeds", "notify", "data"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			rel, err := filepath.Rel(repoRoot, p)
			if err != nil {
				return err
			}
			need = append(need, filepath.ToSlash(rel))
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, line := range strings.Split(string(src), "\n") {
				if m := embedLine.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
					for _, name := range strings.Fields(m[1]) {
						need = append(need, path.Join(path.Dir(filepath.ToSlash(rel)), name))
					}
				}
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatalf("walk %s: %v", dir, err)
		}
	}
	if len(need) < 10 {
		t.Fatalf("found only %d source files; is %s the repository root?", len(need), repoRoot)
	}
	for _, p := range need {
		if ign.excluded(p) {
			t.Errorf(".dockerignore excludes %s, which the build needs", p)
		}
	}
	// Local state, build output and credentials must stay out.
	for _, p := range []string{".git/config", "bin/kubedrift", "kubedrift", "kubedrift.test", "cmd/kubedrift/kubedrift.test",
		"feeds/kube/cpu.prof", "bin/run-store.db", "x/kubedrift.db-wal", "feeds/changelog/testdata/a.md", "prod.kubeconfig", ".env"} {
		if !ign.excluded(p) {
			t.Errorf(".dockerignore lets %s into the build context", p)
		}
	}
}

func TestDockerignoreMatching(t *testing.T) {
	file := filepath.Join(t.TempDir(), ".dockerignore")
	patterns := "# comment\n/bin\n**/*.test\n!**/keep.test\ndocs/*.md\n"
	if err := os.WriteFile(file, []byte(patterns), 0o644); err != nil {
		t.Fatal(err)
	}
	ign, err := loadDockerignore(file)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path string
		want bool
	}{
		{"bin", true},
		{"bin/kubedrift", true},
		{"binary/x", false},
		{"x.test", true},
		{"a/b/c.test", true},
		{"a/keep.test", false},
		{"docs/a.md", true},
		{"docs/sub/a.md", false},
		{"README.md", false},
		{"cmd/kubedrift/main.go", false},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			if got := ign.excluded(c.path); got != c.want {
				t.Errorf("excluded(%q) = %v, want %v", c.path, got, c.want)
			}
		})
	}
}
