package notifytest

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func post(t *testing.T, c *http.Client, url, body string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Test", "yes")
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b), nil
}

func TestScriptThenFallback(t *testing.T) {
	r := New(t, SlackWebhookOK(),
		RateLimited("2"),
		Text(http.StatusInternalServerError, "boom"),
		Text(http.StatusBadRequest, "invalid_payload"),
		SlackAPIError("channel_not_found"),
	)
	want := []struct {
		status     int
		body       string
		retryAfter string
	}{
		{http.StatusTooManyRequests, "rate_limited", "2"},
		{http.StatusInternalServerError, "boom", ""},
		{http.StatusBadRequest, "invalid_payload", ""},
		{http.StatusOK, `{"error":"channel_not_found","ok":false}`, ""},
		{http.StatusOK, "ok", ""},
		{http.StatusOK, "ok", ""},
	}
	for i, w := range want {
		resp, body, err := post(t, r.Client(), r.URL+"/hook/"+string(rune('a'+i)), "payload-"+string(rune('a'+i)))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if resp.StatusCode != w.status || body != w.body || resp.Header.Get("Retry-After") != w.retryAfter {
			t.Errorf("request %d: got %d %q Retry-After=%q, want %d %q %q", i, resp.StatusCode, body, resp.Header.Get("Retry-After"), w.status, w.body, w.retryAfter)
		}
	}
	reqs := r.Requests()
	if len(reqs) != len(want) {
		t.Fatalf("recorded %d requests, want %d", len(reqs), len(want))
	}
	for i, q := range reqs {
		suffix := string(rune('a' + i))
		if q.Method != http.MethodPost || q.Path != "/hook/"+suffix || q.Header.Get("X-Test") != "yes" || string(q.Body) != "payload-"+suffix {
			t.Errorf("request %d recorded as %s %s %v %q", i, q.Method, q.Path, q.Header, q.Body)
		}
	}
	if b := r.Bodies(); string(b[2]) != "payload-c" {
		t.Errorf("Bodies()[2] = %q", b[2])
	}
}

func TestDroppedConnection(t *testing.T) {
	r := New(t, SlackWebhookOK(), Dropped())
	if _, _, err := post(t, r.Client(), r.URL, "x"); err == nil {
		t.Fatal("dropped connection: got no error")
	}
	if _, _, err := post(t, r.Client(), r.URL, "y"); err != nil {
		t.Fatalf("after the drop: %v", err)
	}
	if n := len(r.Requests()); n != 2 {
		t.Errorf("recorded %d requests, want 2", n)
	}
}

func TestFormAndJSON(t *testing.T) {
	r := New(t, SlackAPIOK())
	if _, _, err := post(t, r.Client(), r.URL+"/api/chat.postMessage", "channel=C1&blocks=%5B%5D"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := post(t, r.Client(), r.URL, `{"a":1}`); err != nil {
		t.Fatal(err)
	}
	reqs := r.Requests()
	f, err := reqs[0].Form()
	if err != nil || f.Get("channel") != "C1" || f.Get("blocks") != "[]" {
		t.Errorf("Form() = %v, %v", f, err)
	}
	var v map[string]int
	if err := reqs[1].DecodeJSON(&v); err != nil || v["a"] != 1 {
		t.Errorf("DecodeJSON = %v, %v", v, err)
	}
	if err := reqs[0].DecodeJSON(&v); err == nil || !strings.Contains(err.Error(), "/api/chat.postMessage") {
		t.Errorf("DecodeJSON of a form: error %v should name the path", err)
	}
}

func TestConcurrentRecording(t *testing.T) {
	r := New(t, SlackWebhookOK())
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := r.Client().Post(r.URL, "text/plain", strings.NewReader("x"))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	if n := len(r.Requests()); n != 20 {
		t.Errorf("recorded %d requests, want 20", n)
	}
}

func TestClosedReceiverRefuses(t *testing.T) {
	r := NewServer(SlackWebhookOK())
	c, url := r.Client(), r.URL
	r.Close()
	if _, _, err := post(t, c, url, "x"); err == nil {
		t.Fatal("closed receiver: got no error")
	}
}
