package webhooks

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// maxURLLength bounds an endpoint URL.
const maxURLLength = 2048

// URLError says why an endpoint URL is refused. Reason reads after the field's name
// ("url must use https in live mode; …") and says what to do.
type URLError struct {
	Reason string
}

func (e *URLError) Error() string { return "url " + e.Reason }

// AddrError says why deliveries may not connect to an address.
type AddrError struct {
	Addr netip.Addr
	What string // what the address is, such as "a private network address (10.0.0.0/8)"
	Live bool   // the mode whose rule refused it
}

func (e *AddrError) Error() string {
	return fmt.Sprintf("refused to connect to %s: it is %s; %s", e.Addr, e.What, e.advice())
}

// advice says what a refused target can use instead.
func (e *AddrError) advice() string {
	if e.Live {
		if e.Addr.Unmap().IsLoopback() {
			return "loopback is accepted only by test-mode endpoints; live endpoints need a publicly reachable host"
		}
		return "live endpoints need a publicly reachable host"
	}
	return "endpoints need a publicly reachable host, or loopback (127.0.0.1, ::1, localhost) for a receiver on the server's own machine in test mode"
}

// CheckURL decides whether raw may be saved as an endpoint URL: an absolute http(s) URL
// with a host, no userinfo and no fragment. Live endpoints need https and a public host;
// test endpoints may use http and loopback. Host names are not resolved here: Client
// checks the addresses they resolve to on every connection. The error is a *URLError.
func CheckURL(raw string, live bool) error {
	u, err := parseURL(raw, live)
	if err != nil {
		return err
	}
	return checkHost(u, live)
}

// parseURL checks everything about raw but its host.
func parseURL(raw string, live bool) (*url.URL, error) {
	bad := func(format string, args ...any) (*url.URL, error) {
		return nil, &URLError{Reason: fmt.Sprintf(format, args...)}
	}
	const example = "such as https://hooks.example.com/relm"
	switch {
	case raw == "":
		return bad("is required: give the absolute URL of your receiver, %s", example)
	case len(raw) > maxURLLength:
		return bad("must be at most %d characters long, not %d", maxURLLength, len(raw))
	case strings.TrimSpace(raw) != raw:
		return bad("must not start or end with whitespace")
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return bad("is not a valid URL (%v); give an absolute URL %s", err, example)
	}
	switch {
	case u.Scheme == "":
		return bad("must be an absolute URL starting with https://, %s", example)
	case u.Scheme != "https" && u.Scheme != "http":
		return bad("must use https, not %s", u.Scheme)
	case u.Scheme == "http" && live:
		return bad("must use https in live mode; plain http is accepted only by test-mode endpoints")
	case u.Opaque != "" || u.Host == "":
		return bad("has no host; give an absolute URL %s", example)
	case u.User != nil:
		return bad("must not contain a user name or password; receivers authenticate deliveries by the relm-signature header")
	case strings.Contains(raw, "#"):
		return bad("must not contain a fragment (#…): fragments are never sent to the receiver; remove it")
	case strings.HasSuffix(u.Host, ":"):
		return bad("has an empty port: remove the colon or give a port number")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("has port %s, which is not between 1 and 65535", p)
		}
	}
	return u, nil
}

// checkHost checks the host of a parsed endpoint URL.
func checkHost(u *url.URL, live bool) error {
	bad := func(format string, args ...any) error {
		return &URLError{Reason: fmt.Sprintf(format, args...)}
	}
	host := u.Hostname()
	if strings.HasPrefix(u.Host, "[") { // an IPv6 literal
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() {
			return bad("has host [%s], which is not an IPv6 address", host)
		}
		if addr.Zone() != "" {
			return bad("has a scoped IPv6 address (%%%s); use a public address or hostname", addr.Zone())
		}
		return addrURLError(addr, live)
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if err := hostSyntax(host); err != "" {
		return bad("has host %q, which %s", clip(host), err)
	}
	if addr, err := netip.ParseAddr(host); err == nil && addr.Is4() {
		return addrURLError(addr, live)
	}
	if endsInNumber(host) {
		return bad("has host %q, which looks like an IPv4 address in a non-standard form; write an IPv4 address as four decimal numbers without leading zeros (such as 93.184.215.14), or use a hostname", host)
	}
	return checkName(host, live)
}

// addrURLError is CheckAddr's refusal of a URL's IP literal, as a *URLError.
func addrURLError(addr netip.Addr, live bool) error {
	var ae *AddrError
	if err := CheckAddr(addr, live); errors.As(err, &ae) {
		return &URLError{Reason: fmt.Sprintf("has host %s, which is %s; %s", addr, ae.What, ae.advice())}
	}
	return nil
}

// hostSyntax says what is wrong with host as an ASCII DNS name, or "".
func hostSyntax(host string) string {
	if host == "" {
		return "is empty"
	}
	if len(host) > 253 {
		return "is longer than 253 characters"
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || len(label) > 63 {
			return "is not a valid hostname: each dot-separated label must be 1 to 63 characters"
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if c >= 0x80 {
				return "is not ASCII; write an internationalized domain name in its xn-- (punycode) form"
			}
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "is not a valid hostname: use letters, digits, hyphens and dots"
			}
		}
	}
	return ""
}

// endsInNumber reports whether URL parsers that follow the WHATWG URL standard (browsers)
// or inet_aton (many resolvers) would read host as an IPv4 address: its last label is
// decimal digits, or 0x and hex digits. Such hosts can spell 127.0.0.1 as 2130706433,
// 0x7f000001, 0177.0.0.1 or 127.1. Top-level domains are never numeric, so no real
// hostname is refused.
func endsInNumber(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if isDigits(last) {
		return true
	}
	if len(last) < 2 || last[0] != '0' || last[1] != 'x' {
		return false
	}
	for i := 2; i < len(last); i++ {
		if !strings.ContainsRune("0123456789abcdef", rune(last[i])) {
			return false
		}
	}
	return true
}

// checkName checks a host name (not an IP address) against the names that lead inside a
// network: this machine, cloud metadata services, internal and local-network zones.
func checkName(host string, live bool) error {
	bad := func(format string, args ...any) error {
		return &URLError{Reason: fmt.Sprintf(format, args...)}
	}
	has := func(zone string) bool { return host == zone || strings.HasSuffix(host, "."+zone) }
	switch {
	case has("localhost"):
		if live {
			return bad("has host %s, which is this machine; loopback is accepted only by test-mode endpoints: use a publicly reachable hostname", host)
		}
		return nil
	case host == "metadata" || host == "instance-data" || has("internal"):
		return bad("has host %s, which is an internal or cloud metadata name; use a publicly reachable hostname", host)
	case has("local") || has("localdomain") || has("home.arpa"):
		return bad("has host %s, which is a local-network name; use a publicly reachable hostname", host)
	case live && !strings.Contains(host, "."):
		return bad("has host %s, which is not a fully qualified domain name; use a public hostname such as hooks.example.com", host)
	}
	return nil
}
