package testkit

import "net/http"

// Bearer is an HTTP transport that adds an API key (when Key is set) and headers (name,
// value pairs) to every request, then sends it with Next (http.DefaultTransport if nil).
type Bearer struct {
	Key    string
	Header []string
	Next   http.RoundTripper
}

func (b Bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.Key != "" {
		r.Header.Set("Authorization", "Bearer "+b.Key)
	}
	for i := 0; i+1 < len(b.Header); i += 2 {
		r.Header.Set(b.Header[i], b.Header[i+1])
	}
	next := b.Next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}
