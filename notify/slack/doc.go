// Package slack posts advisory batches to Slack as Block Kit messages, through
// an incoming webhook or the chat.postMessage Web API. Every piece of text that
// kubedrift did not write (upstream notes, CVE titles, cluster names and
// labels) is escaped for Slack's mrkdwn so that it can never mention people,
// broadcast to a channel or smuggle a disguised link, and messages are split
// and truncated to stay within Slack's Block Kit limits.
package slack
