package server_test

import (
	"net/http"
	"testing"
)

func TestEveryResponseIsStamped(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, c := range []struct {
		method, path, key string
		status            int
		code              string
	}{
		{"GET", "/healthz", "", 200, ""},
		{"GET", "/readyz", "", 200, ""},
		{"GET", "/openapi.json", "", 200, ""},
		{"GET", "/openapi.yaml", "", 200, ""},
		{"GET", "/nowhere", "", 404, "not_found"},
		{"GET", "/v1/nowhere", e.Live, 404, "not_found"},
		{"PUT", "/v1/contacts", e.Live, 405, "method_not_allowed"},
		{"GET", "/v1/contacts", "", 401, "unauthorized"},
		{"GET", "/v1/contacts", e.Live, 200, ""},
	} {
		req, _ := http.NewRequest(c.method, e.URL+c.path, nil)
		if c.key != "" {
			req.Header.Set("Authorization", "Bearer "+c.key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.status || res.Header.Get("Request-Id") == "" || res.Header.Get("Relm-Version") == "" {
			t.Errorf("%s %s: %d, headers %v", c.method, c.path, res.StatusCode, res.Header)
		}
		if c.code != "" {
			if r := e.do(c.method, c.path, c.key, nil); r.errCode() != c.code {
				t.Errorf("%s %s: code %q, want %q (%s)", c.method, c.path, r.errCode(), c.code, r.Raw)
			}
		}
	}
}
