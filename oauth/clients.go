package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/relmcrm/relm/store"
)

// errNoClient means a client_id names no registered client and no usable metadata document.
var errNoClient = errors.New("unknown client")

// maxDocumentBytes bounds a Client ID Metadata Document.
const maxDocumentBytes = 5 << 10

// client finds a client by id: a registered one, or for an https URL its Client ID
// Metadata Document, fetched (again after DocumentTTL) and cached. errNoClient when there is
// none; a document that cannot be fetched or is unacceptable is errNoClient wrapped with why.
func (s *Server) client(ctx context.Context, id string) (store.OAuthClient, error) {
	c, err := s.store.OAuthClientByID(ctx, id)
	if err == nil && (!c.Document || c.FetchedAt != nil && time.Since(*c.FetchedAt) < DocumentTTL) {
		return c, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return c, err
	}
	if !IsDocumentURL(id) {
		return c, errNoClient
	}
	if u, _ := url.Parse(id); !s.fetches.Allow(u.Host, DocumentFetchesPerHour) {
		return c, fmt.Errorf("%w: too many metadata documents were fetched from %s lately; try again in an hour", errNoClient, u.Host)
	}
	fetched, ferr := s.fetchDocument(ctx, id)
	if ferr != nil {
		return c, fmt.Errorf("%w: %w", errNoClient, ferr)
	}
	if err := s.store.RegisterOAuthClient(ctx, fetched); err != nil {
		return c, err
	}
	return fetched, nil
}

// IsDocumentURL reports whether a client_id names a Client ID Metadata Document: an https
// URL with a path, and no query, fragment, credentials or dot segments.
func IsDocumentURL(id string) bool {
	u, err := url.Parse(id)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(id, "#") ||
		u.RawQuery != "" || u.ForceQuery {
		return false
	}
	if u.Path == "" || u.Path == "/" {
		return false
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// fetchDocument fetches and checks the metadata document at id through the SSRF-guarded
// client: at most maxDocumentBytes of JSON whose client_id is id, with acceptable redirect
// URIs, for a public client.
func (s *Server) fetchDocument(ctx context.Context, id string) (store.OAuthClient, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return store.OAuthClient{}, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := s.fetch.Do(req)
	if err != nil {
		return store.OAuthClient{}, fmt.Errorf("fetching the client's metadata document: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return store.OAuthClient{}, fmt.Errorf("the client's metadata document answered %d", res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxDocumentBytes+1))
	if err != nil {
		return store.OAuthClient{}, fmt.Errorf("reading the client's metadata document: %w", err)
	}
	if len(body) > maxDocumentBytes {
		return store.OAuthClient{}, fmt.Errorf("the client's metadata document is larger than %d bytes", maxDocumentBytes)
	}
	var meta clientMetadata
	if err := json.Unmarshal(body, &meta); err != nil {
		return store.OAuthClient{}, fmt.Errorf("the client's metadata document is not JSON client metadata: %w", err)
	}
	if meta.ClientID != id {
		return store.OAuthClient{}, fmt.Errorf("the client's metadata document names client_id %q, not its own URL", clip(meta.ClientID))
	}
	if meta.TokenEndpointAuthMethod == "" {
		meta.TokenEndpointAuthMethod = "none"
	}
	if meta.TokenEndpointAuthMethod != "none" {
		return store.OAuthClient{}, errors.New("the client's metadata document asks for a client secret; documents are for public clients (token_endpoint_auth_method none)")
	}
	if code, desc := checkMetadata(&meta); code != "" {
		return store.OAuthClient{}, errors.New(desc)
	}
	now := time.Now()
	return store.OAuthClient{ID: id, AuthMethod: "none", Name: meta.ClientName, RedirectURIs: meta.RedirectURIs,
		Metadata: body, Document: true, FetchedAt: &now}, nil
}
