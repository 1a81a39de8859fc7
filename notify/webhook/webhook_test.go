package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/notify"
	"github.com/kubedrift/kubedrift/notify/notifytest"
	"github.com/kubedrift/kubedrift/tracker"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

const (
	secret   = "whsec-s3cr3t-k3y"
	hookPath = "/hooks/kubedrift/p4thS3cret"
	hookQry  = "?token=qu3ryS3cret"
)

// batch is a three-cluster batch; its note texts are written for this test.
func batch() notify.Batch {
	return notify.Batch{
		ID: "batch-0042", Channel: "webhook-ops",
		GeneratedAt: time.Date(2026, 11, 27, 9, 30, 0, 0, time.FixedZone("CET", 3600)),
		Advisories: []tracker.Advisory{
			{ID: "security/prod-eu/v1.24.3", Fingerprint: "a1", Kind: tracker.AdvisorySecurityFix, Severity: tracker.SeverityHigh,
				Cluster: "prod-eu", Distribution: "eks", Version: "v1.24.3-eks-1", Target: "v1.24.17", Subject: "v1.24.3",
				Title: "2 CVEs affect prod-eu",
				CVEs: []tracker.CVEExposure{
					{ID: "CVE-2022-3172", FixedIn: "v1.24.5", Components: []string{"kube-apiserver"}, Status: tracker.ExposureFixedInMinor},
					{ID: "CVE-2023-2431", FixedIn: "v1.24.14", Components: []string{"kubelet"}, Status: tracker.ExposureFixedInMinor},
				}},
			{ID: "removal/staging/1.25", Fingerprint: "a2", Kind: tracker.AdvisoryRemoval, Severity: tracker.SeverityMedium,
				Cluster: "staging", Version: "v1.24.9", Target: "v1.25.16", Subject: "1.25", Title: "1.25 removes 1 feature",
				Notes: []tracker.Note{{Component: "kubernetes", Version: "v1.25.0", FirstSeen: "v1.25.0-beta.0",
					Kinds: []tracker.Kind{tracker.KindRemoval}, CVEs: []string{}, PR: 108000, ActionRequired: true,
					Text: "The <Frobnicator> plugin & its flags are gone; see <!channel>."}}},
			{ID: "eol/legacy/1.22", Fingerprint: "a3", Kind: tracker.AdvisoryEOL, Severity: tracker.SeverityCritical,
				Cluster: "legacy", Version: "v1.22.17", Subject: "1.22", Title: "1.22 is end of life", DueDate: "2022-10-28"},
		},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s (run go test -update to create it): %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update after checking):\n--- got\n%s", path, got)
	}
}

func TestDeliverySignedAndGolden(t *testing.T) {
	rcv := notifytest.New(t, notifytest.Text(http.StatusNoContent, ""))
	n, err := New(Config{URL: rcv.URL + hookPath + hookQry, Secret: secret, HTTPClient: rcv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if retry, err := n.Notify(context.Background(), batch()); err != nil || retry {
		t.Fatalf("Notify = %v, %v", retry, err)
	}
	reqs := rcv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	q := reqs[0]
	if q.Method != http.MethodPost || q.Path != hookPath || "?"+q.RawQuery != hookQry {
		t.Errorf("request %s %s?%s", q.Method, q.Path, q.RawQuery)
	}
	if ct := q.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if id := q.Header.Get(HeaderBatch); id != "batch-0042" {
		t.Errorf("%s = %q", HeaderBatch, id)
	}
	sig := q.Header.Get(HeaderSignature)
	if !Verify(secret, q.Body, sig) {
		t.Errorf("signature %q does not verify", sig)
	}
	if Verify("another-secret", q.Body, sig) {
		t.Error("signature verifies under a wrong secret")
	}
	if Verify(secret, append(bytes.Clone(q.Body), ' '), sig) {
		t.Error("signature verifies a changed body")
	}

	var p Payload
	if err := q.DecodeJSON(&p); err != nil {
		t.Fatal(err)
	}
	if p.BatchID != "batch-0042" || !p.GeneratedAt.Equal(batch().GeneratedAt) || len(p.Advisories) != 3 || p.Advisories[1].Notes[0].PR != 108000 {
		t.Errorf("payload round trip: %+v", p)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, q.Body, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	golden(t, "payload.golden.json", pretty.Bytes())
}

func TestEmptyBatchIsAnArray(t *testing.T) {
	body, err := Marshal(notify.Batch{ID: "e"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(body, []byte(`"advisories":[]`)) {
		t.Errorf("empty batch body %s", body)
	}
}

func TestAnswers(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		answer    notifytest.Response
		wantRetry bool
		wantAfter time.Duration // > 0: *notify.RetryAfterError expected
		wantErr   string        // "" means success
	}{
		{"200", notifytest.Text(http.StatusOK, "ok"), false, 0, ""},
		{"202", notifytest.Text(http.StatusAccepted, ""), false, 0, ""},
		{"429 Retry-After seconds", notifytest.RateLimited("2"), true, 2 * time.Second, "429"},
		{"429 Retry-After date", notifytest.RateLimited(now.Add(90 * time.Second).Format(http.TimeFormat)), true, 90 * time.Second, "429"},
		{"429 without Retry-After", notifytest.RateLimited(""), true, 0, "429"},
		{"429 garbage Retry-After", notifytest.RateLimited("soon"), true, 0, "429"},
		{"503 Retry-After", func() notifytest.Response {
			r := notifytest.Text(http.StatusServiceUnavailable, "maintenance")
			r.Header.Set("Retry-After", "5")
			return r
		}(), true, 5 * time.Second, "maintenance"},
		{"500", notifytest.Text(http.StatusInternalServerError, "database down"), true, 0, "database down"},
		{"502 html", notifytest.Text(http.StatusBadGateway, "<html><body>bad gateway</body></html>"), true, 0, "502"},
		{"408", notifytest.Text(http.StatusRequestTimeout, ""), true, 0, "408"},
		{"400", notifytest.Text(http.StatusBadRequest, "unknown field"), false, 0, "unknown field"},
		{"401", notifytest.Text(http.StatusUnauthorized, "bad signature"), false, 0, "401"},
		{"404 echoing the URL", notifytest.Text(http.StatusNotFound, "no route for "+hookPath+hookQry), false, 0, "[redacted]"},
		{"410", notifytest.Text(http.StatusGone, ""), false, 0, "410"},
		{"301 not followed", func() notifytest.Response {
			r := notifytest.Text(http.StatusMovedPermanently, "")
			r.Header.Set("Location", "/elsewhere")
			return r
		}(), false, 0, "redirects are not followed"},
		{"dropped connection", notifytest.Dropped(), true, 0, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := notifytest.New(t, notifytest.Text(http.StatusOK, "ok"), tt.answer)
			url := rcv.URL + hookPath + hookQry
			n, err := New(Config{URL: url, Secret: secret, HTTPClient: rcv.Client()})
			if err != nil {
				t.Fatal(err)
			}
			n.now = func() time.Time { return now }
			retry, err := n.Notify(context.Background(), batch())
			assertNoSecrets(t, err, url, hookPath, "p4thS3cret", "qu3ryS3cret", secret)
			if tt.wantErr == "" {
				if err != nil || retry {
					t.Fatalf("Notify = %v, %v; want success", retry, err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Notify error %v, want one containing %q", err, tt.wantErr)
			}
			if retry != tt.wantRetry {
				t.Errorf("retry = %v, want %v (%v)", retry, tt.wantRetry, err)
			}
			var rae *notify.RetryAfterError
			if got := errors.As(err, &rae); got != (tt.wantAfter > 0) || (got && rae.After != tt.wantAfter) {
				t.Errorf("RetryAfterError %v, want After %s (%v)", rae, tt.wantAfter, err)
			}
			if n := len(rcv.Requests()); n != 1 {
				t.Errorf("receiver saw %d requests; redirects and retries are not the notifier's job", n)
			}
		})
	}
}

func assertNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for e := err; e != nil; e = errors.Unwrap(e) {
		for _, s := range secrets {
			if strings.Contains(e.Error(), s) {
				t.Errorf("error leaks %q: %v", s, e)
			}
		}
	}
}

func TestUnreachableAndTimeout(t *testing.T) {
	rcv := notifytest.NewServer(notifytest.Text(http.StatusOK, "ok"))
	url := rcv.URL + hookPath + hookQry
	rcv.Close()
	n, err := New(Config{URL: url, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	retry, err := n.Notify(context.Background(), batch())
	if err == nil || !retry {
		t.Fatalf("closed receiver: %v, %v; want a retryable error", retry, err)
	}
	assertNoSecrets(t, err, url, hookPath, "p4thS3cret", "qu3ryS3cret")

	// A receiver that never answers: the configured timeout ends the
	// delivery as retryable (no assertion on how long it took).
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	n, err = New(Config{URL: slow.URL + hookPath, Secret: secret, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	retry, err = n.Notify(context.Background(), batch())
	if !errors.Is(err, context.DeadlineExceeded) || !retry {
		t.Errorf("hanging receiver: %v, %v; want a retryable deadline error", retry, err)
	}
	assertNoSecrets(t, err, hookPath)
}

func TestVerify(t *testing.T) {
	body := []byte(`{"batch_id":"b1"}`)
	good := Sign(secret, body)
	tests := []struct {
		name, secret, header string
		body                 []byte
		want                 bool
	}{
		{"valid", secret, good, body, true},
		{"valid with spaces", secret, " " + good + " ", body, true},
		{"wrong secret", "other", good, body, false},
		{"changed body", secret, good, []byte(`{"batch_id":"b2"}`), false},
		{"no prefix", secret, strings.TrimPrefix(good, "sha256="), body, false},
		{"other algorithm", secret, "sha1=" + strings.TrimPrefix(good, "sha256="), body, false},
		{"not hex", secret, "sha256=zz", body, false},
		{"truncated", secret, good[:len(good)-2], body, false},
		{"empty header", secret, "", body, false},
		{"empty secret", "", Sign("", body), body, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Verify(tt.secret, tt.body, tt.header); got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzSignVerify(f *testing.F) {
	f.Add("k", []byte(`{"a":1}`), []byte(`{"a":2}`))
	f.Add("s3cret", []byte{}, []byte{0})
	f.Fuzz(func(t *testing.T, key string, body, other []byte) {
		if key == "" {
			return
		}
		sig := Sign(key, body)
		if !Verify(key, body, sig) {
			t.Fatalf("own signature does not verify")
		}
		if !bytes.Equal(body, other) && Verify(key, other, sig) {
			t.Fatalf("signature of %q verifies %q", body, other)
		}
	})
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"ok", Config{URL: "https://hooks.example.com" + hookPath, Secret: secret}, ""},
		{"no url", Config{Secret: secret}, "url is required"},
		{"no secret", Config{URL: "https://hooks.example.com" + hookPath}, "secret"},
		{"bad scheme", Config{URL: "file:///etc" + hookPath, Secret: secret}, "scheme"},
		{"no host", Config{URL: "https://" + hookPath, Secret: secret}, "host"},
		{"unparsable", Config{URL: "https://hooks.example.com/%zz" + hookPath, Secret: secret}, "parse"},
		{"negative timeout", Config{URL: "https://hooks.example.com", Secret: secret, Timeout: -time.Second}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error %v, want one containing %q", err, tt.want)
			}
			assertNoSecrets(t, err, "p4thS3cret", secret)
		})
	}
}

func BenchmarkMarshalSign(b *testing.B) {
	base := batch()
	var advs []tracker.Advisory
	for range 40 {
		advs = append(advs, base.Advisories...)
	}
	big := notify.Batch{ID: "bench", Advisories: advs}
	for b.Loop() {
		body, err := Marshal(big)
		if err != nil {
			b.Fatal(err)
		}
		Sign(secret, body)
	}
}
