package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/kubedrift/kubedrift/notify/webhook"
)

// A receiver checks the signature over the exact bytes it read, before
// decoding them, and may use the batch id to skip a batch it already has.
func ExampleVerify() {
	const secret = "shared-secret"
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		if err != nil || !webhook.Verify(secret, body, r.Header.Get(webhook.HeaderSignature)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		fmt.Println("accepted batch", r.Header.Get(webhook.HeaderBatch))
	})

	body := `{"batch_id":"b-1","generated_at":"2026-11-27T09:00:00Z","advisories":[]}`
	for _, key := range []string{secret, "wrong"} {
		req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
		req.Header.Set(webhook.HeaderSignature, webhook.Sign(key, []byte(body)))
		req.Header.Set(webhook.HeaderBatch, "b-1")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// accepted batch b-1
	// 200
	// 401
}
