package deploy

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"text/template"

	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// chartDir is the chart under test, relative to this package.
const chartDir = "helm/kubedrift"

// A chart renderer good enough for this chart, so the manifests are checked
// on every `go test` without helm: Go templates (as helm uses) with the few
// Sprig functions the templates call, helm's built-in objects and its
// missingkey=zero behaviour. A template calling a function not listed here
// fails to parse, which keeps the chart to simple, well-known constructs.

// release is what the tests install as: helm install kd ./kubedrift -n ops.
var release = map[string]any{
	"Name":      "kd",
	"Namespace": "ops",
	"Service":   "Helm",
	"IsInstall": true,
}

// rendered is one chart render: manifests by template file name (empty files
// left out) and NOTES.txt.
type rendered struct {
	manifests map[string]string
	notes     string
}

// loadYAMLFile reads path and decodes it strictly enough to catch syntax
// errors; the error names the file.
func loadYAMLFile(path string, into any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// renderChart renders the chart with values.yaml overlaid by overrides (as
// helm's -f would merge them).
func renderChart(overrides map[string]any) (*rendered, error) {
	var meta map[string]any
	if err := loadYAMLFile(filepath.Join(chartDir, "Chart.yaml"), &meta); err != nil {
		return nil, err
	}
	var values map[string]any
	if err := loadYAMLFile(filepath.Join(chartDir, "values.yaml"), &values); err != nil {
		return nil, err
	}
	values = mergeValues(values, overrides)

	root := template.New("chart").Option("missingkey=zero")
	root.Funcs(sprigSubset(root))
	files, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		name := filepath.Base(f)
		if _, err := root.New(name).Parse(string(b)); err != nil {
			return nil, fmt.Errorf("parse template %s: %w", f, err)
		}
		if !strings.HasPrefix(name, "_") {
			names = append(names, name)
		}
	}
	sort.Strings(names)

	top := map[string]any{
		"Values":  values,
		"Release": release,
		"Chart": map[string]any{
			"Name":       meta["name"],
			"Version":    meta["version"],
			"AppVersion": meta["appVersion"],
		},
	}
	out := &rendered{manifests: map[string]string{}}
	for _, name := range names {
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, top); err != nil {
			return nil, fmt.Errorf("render %s: %w", name, err)
		}
		// helm prints absent values as empty, not "<no value>".
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		switch {
		case name == "NOTES.txt":
			out.notes = text
		case strings.TrimSpace(text) != "":
			out.manifests[name] = text
		}
	}
	return out, nil
}

// mergeValues overlays src onto dst recursively, maps merging and everything
// else replacing, like helm's values files.
func mergeValues(dst, src map[string]any) map[string]any {
	out := deepCopy(dst).(map[string]any)
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := out[k].(map[string]any); ok {
				out[k] = mergeValues(dm, sm)
				continue
			}
		}
		out[k] = deepCopy(v)
	}
	return out
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}

// isEmpty is Sprig's notion of empty, which default and friends use.
func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.String, reflect.Map, reflect.Slice, reflect.Array:
		return r.Len() == 0
	case reflect.Bool:
		return !r.Bool()
	case reflect.Int, reflect.Int64, reflect.Int32:
		return r.Int() == 0
	case reflect.Float64, reflect.Float32:
		return r.Float() == 0
	case reflect.Pointer, reflect.Interface:
		return r.IsNil()
	}
	return false
}

// sprigSubset returns the helm/Sprig functions the chart may use, with
// Sprig's argument order (the piped value last).
func sprigSubset(root *template.Template) template.FuncMap {
	return template.FuncMap{
		"include": func(name string, data any) (string, error) {
			var buf bytes.Buffer
			if err := root.ExecuteTemplate(&buf, name, data); err != nil {
				return "", err
			}
			return buf.String(), nil
		},
		"toYaml": func(v any) (string, error) {
			b, err := yaml.Marshal(v)
			if err != nil {
				return "", fmt.Errorf("toYaml: %w", err)
			}
			return strings.TrimSuffix(string(b), "\n"), nil
		},
		"indent": indent,
		"nindent": func(n int, s string) string {
			return "\n" + indent(n, s)
		},
		"quote": func(args ...any) string {
			var out []string
			for _, a := range args {
				if a != nil {
					out = append(out, fmt.Sprintf("%q", fmt.Sprint(a)))
				}
			}
			return strings.Join(out, " ")
		},
		"default": func(d any, given ...any) any {
			if len(given) == 0 || isEmpty(given[0]) {
				return d
			}
			return given[0]
		},
		"trunc": func(n int, s string) string {
			if len(s) > n {
				return s[:n]
			}
			return s
		},
		"trimSuffix": func(suffix, s string) string { return strings.TrimSuffix(s, suffix) },
		"contains":   func(substr, s string) bool { return strings.Contains(s, substr) },
		"replace":    func(old, new, s string) string { return strings.ReplaceAll(s, old, new) },
		"fail":       func(msg string) (string, error) { return "", errors.New(msg) },
		"sha256sum": func(s string) string {
			h := sha256.Sum256([]byte(s))
			return hex.EncodeToString(h[:])
		},
		"b64enc": func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, errors.New("dict: odd number of arguments")
			}
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m, nil
		},
		"list": func(items ...any) []any { return items },
		"set": func(m map[string]any, k string, v any) map[string]any {
			m[k] = v
			return m
		},
		"has": func(needle, haystack any) bool {
			r := reflect.ValueOf(haystack)
			if r.Kind() != reflect.Slice {
				return false
			}
			for i := 0; i < r.Len(); i++ {
				if reflect.DeepEqual(r.Index(i).Interface(), needle) {
					return true
				}
			}
			return false
		},
		"append": func(list any, v any) ([]any, error) {
			r := reflect.ValueOf(list)
			if list != nil && r.Kind() != reflect.Slice {
				return nil, fmt.Errorf("append: %T is not a list", list)
			}
			var out []any
			for i := 0; list != nil && i < r.Len(); i++ {
				out = append(out, r.Index(i).Interface())
			}
			return append(out, v), nil
		},
		"deepCopy": deepCopy,
	}
}

func indent(n int, s string) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

// mustRender renders or fails the test.
func mustRender(t *testing.T, overrides map[string]any) *rendered {
	t.Helper()
	r, err := renderChart(overrides)
	if err != nil {
		t.Fatalf("render chart: %v", err)
	}
	return r
}

// decode parses one rendered manifest into a typed object as the API server
// would: case-sensitively, and with an unknown, duplicate or misspelt field
// (readOnlyRootFileSystem) as an error.
func decode(t *testing.T, r *rendered, file string, into any) {
	t.Helper()
	text, ok := r.manifests[file]
	if !ok {
		t.Fatalf("%s was not rendered", file)
	}
	if err := decodeStrict(text, into); err != nil {
		t.Fatalf("decode rendered %s: %v\n%s", file, err, text)
	}
}

func decodeStrict(text string, into any) error {
	j, err := yaml.YAMLToJSONStrict([]byte(text))
	if err != nil {
		return err
	}
	strict, err := sigsjson.UnmarshalStrict(j, into)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}
