// Package webhook delivers advisory batches as signed JSON to an HTTP
// endpoint of the user's choosing. Each POST carries the batch id for
// idempotent receivers and an HMAC-SHA256 signature of the exact body, which
// receivers check with Verify.
package webhook
