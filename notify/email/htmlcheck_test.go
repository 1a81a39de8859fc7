package email

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// allowedTags is what a message may contain: layout tables, text markup
// from goldmark and links. Anything else (script, style, img, iframe, form,
// link, object ...) fails the check.
var allowedTags = map[string]bool{
	"html": true, "head": true, "meta": true, "title": true, "body": true,
	"table": true, "tr": true, "td": true, "div": true, "span": true,
	"p": true, "ul": true, "ol": true, "li": true, "a": true, "code": true, "pre": true,
	"em": true, "strong": true, "del": true, "blockquote": true, "br": true, "hr": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
}

// checkHTML tokenizes a message as a mail client would and reports tags,
// event handlers, classes and links a mail should not carry.
func checkHTML(t *testing.T, name, doc string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(doc))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if !allowedTags[tok.Data] {
				t.Errorf("%s: tag <%s> not allowed in mail", name, tok.Data)
			}
			for _, a := range tok.Attr {
				switch {
				case strings.HasPrefix(a.Key, "on"):
					t.Errorf("%s: event handler %s on <%s>", name, a.Key, tok.Data)
				case a.Key == "class" || a.Key == "src" || a.Key == "srcset":
					t.Errorf("%s: attribute %s on <%s>", name, a.Key, tok.Data)
				case a.Key == "href" && safeLink(a.Val) == "":
					t.Errorf("%s: link %q is not http(s)", name, a.Val)
				}
			}
		}
	}
}

func TestHTMLStructure(t *testing.T) {
	_, _, dhtml, err := RenderDigest(testDigest())
	if err != nil {
		t.Fatal(err)
	}
	_, _, bhtml, err := RenderBatch(testBatch())
	if err != nil {
		t.Fatal(err)
	}
	checkHTML(t, "digest", dhtml)
	checkHTML(t, "batch", bhtml)
}
