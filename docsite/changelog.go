package docsite

import (
	"bytes"
	_ "embed"
	"encoding/xml"
	"fmt"
	"html/template"
	"strings"
	"time"
)

// changelogSource is the changelog kept in the repository: "## YYYY-MM-DD Title" entries,
// newest first.
//
//go:embed changelog.md
var changelogSource string

// entry is one dated changelog entry.
type entry struct {
	Date   time.Time
	Title  string
	ID     string // anchor on /changelog, from the date and title: stable once published
	Body   string // Markdown
	Blocks []block
}

// GUID is the entry's RSS guid: the same for as long as its date and title are.
func (e entry) GUID() string { return "relm-changelog-" + e.ID }

// parseChangelog reads the entries of src, which must be dated and newest first.
func parseChangelog(src string) ([]entry, error) {
	var entries []entry
	_, rest, _ := strings.Cut(src, "\n## ")
	if rest == "" {
		return nil, fmt.Errorf("docsite: the changelog has no entries")
	}
	for _, part := range strings.Split("\n## "+rest, "\n## ")[1:] {
		heading, body, _ := strings.Cut(part, "\n")
		date, title, _ := strings.Cut(heading, " ")
		d, err := time.Parse(time.DateOnly, date)
		if err != nil || strings.TrimSpace(title) == "" {
			return nil, fmt.Errorf("docsite: changelog heading %q: want ## YYYY-MM-DD Title", heading)
		}
		e := entry{Date: d, Title: strings.TrimSpace(title), ID: slug(date + " " + title), Body: strings.TrimSpace(body)}
		e.Blocks = parseMarkdown(e.Body)
		if n := len(entries); n > 0 && entries[n-1].Date.Before(d) {
			return nil, fmt.Errorf("docsite: changelog entry %q is newer than the one above it", heading)
		}
		for _, prev := range entries {
			if prev.ID == e.ID {
				return nil, fmt.Errorf("docsite: changelog entry %q is there twice", heading)
			}
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// The RSS 2.0 document of the changelog.
type rss struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Atom    string     `xml:"xmlns:atom,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	Language      string    `xml:"language"`
	LastBuildDate string    `xml:"lastBuildDate"`
	Self          atomLink  `xml:"atom:link"`
	Items         []rssItem `xml:"item"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	GUID        rssGUID `xml:"guid"`
	PubDate     string  `xml:"pubDate"`
	Description string  `xml:"description"`
}

type rssGUID struct {
	IsPermaLink bool   `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

// changelogRSS renders entries as RSS 2.0, each item's description the entry as HTML
// rendered by body.
func changelogRSS(entries []entry, baseURL string, body *template.Template) ([]byte, error) {
	doc := rss{Version: "2.0", Atom: "http://www.w3.org/2005/Atom", Channel: rssChannel{
		Title:       "Relm changelog",
		Link:        baseURL + "/changelog",
		Description: "What changed in Relm, the MCP-first, API-first CRM server.",
		Language:    "en",
		Self:        atomLink{Href: baseURL + "/changelog.rss", Rel: "self", Type: "application/rss+xml"},
	}}
	for i, e := range entries {
		if i == 0 {
			doc.Channel.LastBuildDate = e.Date.Format(time.RFC1123Z)
		}
		var html bytes.Buffer
		if err := body.Execute(&html, e.Blocks); err != nil {
			return nil, err
		}
		doc.Channel.Items = append(doc.Channel.Items, rssItem{
			Title:       e.Title,
			Link:        baseURL + "/changelog#" + e.ID,
			GUID:        rssGUID{Value: e.GUID()},
			PubDate:     e.Date.Format(time.RFC1123Z),
			Description: html.String(),
		})
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}
