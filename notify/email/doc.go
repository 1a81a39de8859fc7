// Package email delivers kubedrift's advisories and weekly digest by SMTP.
//
// Each message is multipart/alternative: a plain-text part and an HTML part
// built from tables and inline styles only, so it renders in common mail
// clients without external CSS, images or scripts. Upstream note text is
// untrusted markdown: the HTML part renders it with goldmark without raw HTML
// and keeps only http(s) links; everything else goes through html/template
// escaping. Send failures are classified for the outbox: SMTP 4xx replies and
// connection errors are worth retrying, 5xx replies (a refused address,
// failed authentication) are not. The SMTP password never appears in errors.
package email
