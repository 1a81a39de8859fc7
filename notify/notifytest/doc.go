// Package notifytest provides an HTTP receiver on 127.0.0.1 that stands in for
// Slack (incoming webhooks and chat.postMessage) and for webhook endpoints in
// tests: it records every request and answers from a script, so tests can
// drive a channel through rate limits, server errors and rejections without
// the internet.
package notifytest
