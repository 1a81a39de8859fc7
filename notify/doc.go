// Package notify writes to people: Slack, the weekly email digest, webhooks and
// stdout, behind one small Notifier interface per channel, with an outbox that
// makes delivery retryable and crash-safe.
package notify
