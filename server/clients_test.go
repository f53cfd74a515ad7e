package server

import (
	"net/netip"
	"testing"
	"time"
)

func TestAddrPrefixGroupsIPv6By64(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:5000":             "127.0.0.1/32",
		"[::ffff:10.0.0.1]:1":        "10.0.0.1/32",
		"[2001:db8:1:2:aaaa::1]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::9]:80":  "2001:db8:1:2::/64",
		"garbage":                    "invalid Prefix",
	} {
		if got := addrPrefix(in).String(); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}

// TestAuthThrottleRefills: failures drain the bucket, pending attempts count against it,
// and it refills over a minute.
func TestAuthThrottleRefills(t *testing.T) {
	now := time.Unix(0, 0)
	th := newAuthThrottle(2)
	th.now = func() time.Time { return now }
	a := netip.MustParsePrefix("10.0.0.1/32")
	if th.begin(a) != 0 || th.begin(a) != 0 {
		t.Fatal("first two attempts refused")
	}
	if th.begin(a) == 0 {
		t.Fatal("a third concurrent attempt passed while two may still fail")
	}
	th.done(a, true)
	th.done(a, false)
	if th.begin(a) != 0 {
		t.Fatal("a success took a token")
	}
	th.done(a, true)
	if w := th.begin(a); w < 29*time.Second || w > 31*time.Second {
		t.Fatalf("drained bucket: wait %v, want about 30 s", w)
	}
	now = now.Add(31 * time.Second)
	if th.begin(a) != 0 {
		t.Fatal("no refill after half a minute")
	}
}
