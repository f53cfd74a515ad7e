package docsite_test

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

// TestChangelogRSS parses /changelog.rss as RSS 2.0: a channel with its title, link and
// description, and items with a title, a link to their anchor on /changelog, a stable
// guid and a date.
func TestChangelogRSS(t *testing.T) {
	t.Parallel()
	srv := docServer(t)
	raw := get(t, srv, "/changelog.rss", "application/rss+xml; charset=utf-8")
	page := get(t, srv, "/changelog", htmlType)
	var feed struct {
		XMLName xml.Name `xml:"rss"`
		Version string   `xml:"version,attr"`
		Channel struct {
			Self struct { // first, so that <link> elements of the Atom namespace fill it
				Href string `xml:"href,attr"`
			} `xml:"http://www.w3.org/2005/Atom link"`
			Title       string `xml:"title"`
			Link        string `xml:"link"`
			Description string `xml:"description"`
			Items       []struct {
				Title       string `xml:"title"`
				Link        string `xml:"link"`
				Description string `xml:"description"`
				PubDate     string `xml:"pubDate"`
				GUID        struct {
					IsPermaLink string `xml:"isPermaLink,attr"`
					Value       string `xml:",chardata"`
				} `xml:"guid"`
			} `xml:"item"`
		} `xml:"channel"`
	}
	if err := xml.Unmarshal([]byte(raw), &feed); err != nil {
		t.Fatal(err)
	}
	c := feed.Channel
	if feed.Version != "2.0" || c.Title == "" || c.Link != publicURL+"/changelog" || c.Description == "" || c.Self.Href != publicURL+"/changelog.rss" {
		t.Errorf("channel: version %q, title %q, link %q, description %q, self %q", feed.Version, c.Title, c.Link, c.Description, c.Self.Href)
	}
	if len(c.Items) == 0 {
		t.Fatal("no items")
	}
	guids := map[string]bool{}
	var last time.Time
	for _, it := range c.Items {
		date, err := time.Parse(time.RFC1123Z, it.PubDate)
		if err != nil {
			t.Errorf("%s: pubDate: %v", it.Title, err)
		}
		if !last.IsZero() && date.After(last) {
			t.Errorf("%s is newer than the item before it", it.Title)
		}
		last = date
		anchor, ok := strings.CutPrefix(it.Link, publicURL+"/changelog#")
		if !ok || !strings.Contains(page, `<article id="`+anchor+`">`) {
			t.Errorf("%s: link %s is not an entry of /changelog", it.Title, it.Link)
		}
		if it.Title == "" || it.Description == "" || it.GUID.Value == "" || it.GUID.IsPermaLink != "false" || guids[it.GUID.Value] {
			t.Errorf("item %+v: want a title, a description and a unique guid that is not a permalink", it)
		}
		guids[it.GUID.Value] = true
	}
	// A guid is the date and title: readers that saw an entry never see it again as new.
	if !guids["relm-changelog-2026-11-29-first-release"] {
		t.Errorf("the first release's guid changed: %v", guids)
	}
}
