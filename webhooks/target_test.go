package webhooks_test

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/relmcrm/relm/webhooks"
)

// urlCase is an endpoint URL and what CheckURL must say of it in each mode: "" to accept,
// or a fragment of the refusal's reason.
type urlCase struct {
	url        string
	live, test string
}

func both(url, reason string) urlCase { return urlCase{url, reason, reason} }

var urlCases = []urlCase{
	// Accepted.
	both("https://hooks.example.com/relm", ""),
	both("https://hooks.example.com:8443/relm?token=abc&x=1", ""),
	both("https://HOOKS.Example.COM./relm", ""),
	both("https://93.184.215.14/relm", ""),
	both("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/relm", ""),
	both("https://[::ffff:93.184.215.14]/relm", ""),
	both("https://[64:ff9b::5db8:d70e]/relm", ""), // NAT64 of 93.184.215.14
	both("https://[2002:5db8:d70e::1]/relm", ""),  // 6to4 of 93.184.215.14
	both("https://xn--bcher-kva.example/relm", ""),
	both("https://1e100.net/", ""),
	both("https://cafe.be/", ""),
	both("https://my_host.example.com/", ""),

	// Shape of the URL.
	both("", "is required"),
	both(" https://hooks.example.com", "whitespace"),
	both("https://hooks.example.com/"+strings.Repeat("a", 2048), "at most 2048"),
	both("hooks.example.com/relm", "absolute URL"),
	both("/relm", "absolute URL"),
	both("ftp://hooks.example.com/relm", "must use https, not ftp"),
	both("javascript:alert(1)", "must use https, not javascript"),
	both("file:///etc/passwd", "must use https, not file"),
	both("https:hooks.example.com", "has no host"),
	both("https:///relm", "has no host"),
	both("https://user:pass@hooks.example.com/", "user name or password"),
	both("https://user@hooks.example.com/", "user name or password"),
	both("https://hooks.example.com/relm#frag", "fragment"),
	both("https://hooks.example.com/relm#", "fragment"),
	both("https://hooks.example.com:/relm", "empty port"),
	both("https://hooks.example.com:0/relm", "not between 1 and 65535"),
	both("https://hooks.example.com:65536/relm", "not between 1 and 65535"),
	both("https://hooks.example.com:https/relm", "not a valid URL"),
	both("https://hoo ks.example.com/", "not a valid URL"),
	both("https://hooks\x00.example.com/", "not a valid URL"),
	both("https://bücher.example/", "xn--"),
	both("https://hooks..example.com/", "1 to 63 characters"),
	both("https://"+strings.Repeat("a", 64)+".example.com/", "1 to 63 characters"),
	both("https://hooks!.example.com/", "not a valid hostname"),
	both("https://[fe80::1%25eth0]/", "scoped IPv6"),
	both("https://[hooks.example.com]/", "not a valid URL"),
	{"http://hooks.example.com/relm", "must use https in live mode", ""},
	{"HTTP://hooks.example.com/relm", "must use https in live mode", ""},

	// Loopback: test mode only.
	{"https://127.0.0.1/", "loopback", ""},
	{"http://127.0.0.1:8080/hook", "must use https in live mode", ""},
	{"https://127.255.255.254/", "loopback", ""},
	{"https://[::1]:8080/", "loopback", ""},
	{"https://[::ffff:127.0.0.1]/", "loopback address (127.0.0.0/8), written as an IPv4-mapped", ""},
	{"https://localhost/", "this machine", ""},
	{"https://LOCALHOST./", "this machine", ""},
	{"https://api.localhost:3000/", "this machine", ""},
	{"https://receiver/", "not a fully qualified domain name", ""},

	// Private, link-local, CGNAT and other special ranges: never.
	both("https://10.0.0.1/", "private network address (10.0.0.0/8)"),
	both("https://172.16.0.1/", "private network address (172.16.0.0/12)"),
	both("https://172.31.255.255/", "private network address (172.16.0.0/12)"),
	both("https://192.168.1.1/", "private network address (192.168.0.0/16)"),
	both("https://169.254.169.254/latest/meta-data/", "link-local"),
	both("https://100.64.0.1/", "carrier-grade NAT"),
	both("https://100.127.255.255/", "carrier-grade NAT"),
	both("https://0.0.0.0/", "unspecified"),
	both("https://0.1.2.3/", `"this network"`),
	both("https://255.255.255.255/", "broadcast"),
	both("https://240.0.0.1/", "reserved"),
	both("https://224.0.0.1/", "multicast"),
	both("https://239.255.255.250/", "multicast"),
	both("https://198.18.0.1/", "benchmarking"),
	both("https://198.19.255.255/", "benchmarking"),
	both("https://192.0.0.8/", "IETF protocol assignment"),
	both("https://192.0.2.1/", "documentation"),
	both("https://198.51.100.1/", "documentation"),
	both("https://203.0.113.1/", "documentation"),
	both("https://[::]/", "unspecified"),
	both("https://[fc00::1]/", "unique local"),
	both("https://[fd12:3456::1]/", "unique local"),
	both("https://[fe80::1]/", "link-local"),
	both("https://[febf::1]/", "link-local"),
	both("https://[fec0::1]/", "site-local"),
	both("https://[ff02::1]/", "multicast"),
	both("https://[::ffff:10.0.0.1]/", "private network address (10.0.0.0/8), written as an IPv4-mapped"),
	both("https://[::ffff:169.254.169.254]/", "link-local"),
	both("https://[::ffff:0:0]/", "unspecified address, written as an IPv4-mapped"),
	both("https://[::ffff:0.1.2.3]/", "this network"),
	both("https://[::127.0.0.1]/", "IPv4-compatible"),
	both("https://[64:ff9b::7f00:1]/", "NAT64 address embedding 127.0.0.1"),
	both("https://[64:ff9b::a9fe:a9fe]/", "NAT64 address embedding 169.254.169.254"),
	both("https://[64:ff9b:1::a00:1]/", "local-use NAT64"),
	both("https://[2002:c0a8:101::1]/", "6to4 address embedding 192.168.1.1"),
	both("https://[2002:7f00:1::1]/", "6to4 address embedding 127.0.0.1"),
	both("https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
	both("https://[2001:db8::1]/", "documentation"),
	both("https://[3fff::1]/", "documentation"),
	both("https://[2001:2::1]/", "IETF protocol assignment"),
	both("https://[100::1]/", "discard-only"),
	both("https://[4000::1]/", "not a global unicast"),

	// Names that lead inside a network.
	both("https://metadata.google.internal/computeMetadata/v1/", "cloud metadata"),
	both("https://metadata/", "cloud metadata"),
	both("https://instance-data/", "cloud metadata"),
	both("https://instance-data.ec2.internal/", "cloud metadata"),
	both("https://db.prod.internal/", "cloud metadata"),
	both("https://printer.local/", "local-network name"),
	both("https://nas.home.arpa/", "local-network name"),
	both("https://box.localdomain/", "local-network name"),

	// IPv4 in spellings that browsers or inet_aton accept.
	both("https://2130706433/", "non-standard form"),
	both("https://0x7f000001/", "non-standard form"),
	both("https://0X7F000001/", "non-standard form"),
	both("https://0177.0.0.1/", "non-standard form"),
	both("https://127.1/", "non-standard form"),
	both("https://127.0.1/", "non-standard form"),
	both("https://127.000.000.001/", "non-standard form"),
	both("https://0x7f.0.0.1/", "non-standard form"),
	both("https://127.0.0.0x1/", "non-standard form"),
	both("https://1.2.3.4.5/", "non-standard form"),
	both("https://8.8.8.8./", ""),
	both("https://017700000001/", "non-standard form"),
	both("https://hooks.example.0x/", "non-standard form"),
	both("https://%31%32%37.0.0.1/", "not a valid URL"),
	both("https://%C3%BC.example/", "xn--"), // percent-decoded before the check
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for _, c := range urlCases {
		for _, mode := range []struct {
			live bool
			want string
		}{{true, c.live}, {false, c.test}} {
			name := "test"
			if mode.live {
				name = "live"
			}
			err := webhooks.CheckURL(c.url, mode.live)
			if mode.want == "" {
				if err != nil {
					t.Errorf("%s mode: CheckURL(%q) = %v, want accepted", name, c.url, err)
				}
				continue
			}
			var ue *webhooks.URLError
			if !errors.As(err, &ue) {
				t.Errorf("%s mode: CheckURL(%q) = %v, want a *URLError saying %q", name, c.url, err, mode.want)
				continue
			}
			if !strings.Contains(ue.Reason, mode.want) {
				t.Errorf("%s mode: CheckURL(%q) reason %q, want it to say %q", name, c.url, ue.Reason, mode.want)
			}
			if !strings.HasPrefix(err.Error(), "url ") {
				t.Errorf("%s mode: error %q does not name the url field", name, err)
			}
		}
	}
}

// TestCheckURLMessagesSayWhatToDo checks that a refusal of an address or a scheme tells
// the caller what they can use instead.
func TestCheckURLMessagesSayWhatToDo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url  string
		live bool
		want string
	}{
		{"https://10.0.0.1/", true, "live endpoints need a publicly reachable host"},
		{"https://10.0.0.1/", false, "or loopback"},
		{"https://127.0.0.1/", true, "loopback is accepted only by test-mode endpoints"},
		{"http://hooks.example.com/", true, "accepted only by test-mode endpoints"},
	} {
		if err := webhooks.CheckURL(tc.url, tc.live); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckURL(%q, live=%v) = %v, want it to say %q", tc.url, tc.live, err, tc.want)
		}
	}
}

func TestCheckAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr       string
		live, test bool // accepted in each mode
	}{
		{"93.184.215.14", true, true},
		{"1.1.1.1", true, true},
		{"2606:4700:4700::1111", true, true},
		{"127.0.0.1", false, true},
		{"::1", false, true},
		{"::ffff:127.0.0.1", false, true},
		{"64:ff9b::7f00:1", false, false},
		{"10.1.2.3", false, false},
		{"169.254.169.254", false, false},
		{"fd00:ec2::254", false, false}, // AWS's IPv6 metadata address
		{"0.0.0.0", false, false},
		{"::", false, false},
		{"fe80::1%eth0", false, false},
	} {
		addr := netip.MustParseAddr(tc.addr)
		for _, mode := range []struct {
			live, want bool
		}{{true, tc.live}, {false, tc.test}} {
			err := webhooks.CheckAddr(addr, mode.live)
			if (err == nil) != mode.want {
				t.Errorf("CheckAddr(%s, live=%v) = %v, want accepted=%v", addr, mode.live, err, mode.want)
			}
			var ae *webhooks.AddrError
			if err != nil && (!errors.As(err, &ae) || ae.Addr != addr) {
				t.Errorf("CheckAddr(%s) = %#v, want an *AddrError naming the address", addr, err)
			}
		}
	}
	if err := webhooks.CheckAddr(netip.Addr{}, false); err == nil {
		t.Error("CheckAddr accepted the zero Addr")
	}
}

// FuzzCheckURL checks that CheckURL never panics, that a live-mode acceptance implies a
// test-mode one, and that every URL it accepts is https (live) with a host whose IP, if
// it is one, CheckAddr accepts.
func FuzzCheckURL(f *testing.F) {
	for _, c := range urlCases {
		f.Add(c.url)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		liveErr, testErr := webhooks.CheckURL(raw, true), webhooks.CheckURL(raw, false)
		if liveErr == nil && testErr != nil {
			t.Fatalf("%q: accepted in live mode but not in test mode: %v", raw, testErr)
		}
		for _, err := range []error{liveErr, testErr} {
			var ue *webhooks.URLError
			if err != nil && !errors.As(err, &ue) {
				t.Fatalf("%q: error %v is not a *URLError", raw, err)
			}
		}
		if liveErr != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" {
			t.Fatalf("%q: accepted in live mode without https (%v)", raw, err)
		}
		if addr, err := netip.ParseAddr(u.Hostname()); err == nil {
			if err := webhooks.CheckAddr(addr, true); err != nil {
				t.Fatalf("%q: accepted in live mode, but its address is refused: %v", raw, err)
			}
		}
	})
}
