package webhooks

import "net/netip"

// special is a range of addresses that deliveries never connect to, named for messages.
type special struct {
	prefix netip.Prefix
	what   string
}

func ranges(list ...special) []special { return list }

func r(prefix, what string) special {
	return special{netip.MustParsePrefix(prefix), what + " (" + prefix + ")"}
}

// Special-purpose IPv4 ranges (IANA's registry and RFC 6890), the most specific first.
var specialIPv4 = ranges(
	r("0.0.0.0/8", `a "this network" address`),
	r("10.0.0.0/8", "a private network address"),
	r("100.64.0.0/10", "a carrier-grade NAT address"),
	r("127.0.0.0/8", "a loopback address"),
	r("169.254.0.0/16", "a link-local address, where cloud metadata services answer"),
	r("172.16.0.0/12", "a private network address"),
	r("192.0.0.0/24", "an IETF protocol assignment"),
	r("192.0.2.0/24", "a documentation address"),
	r("192.88.99.0/24", "a 6to4 relay anycast address"),
	r("192.168.0.0/16", "a private network address"),
	r("198.18.0.0/15", "a benchmarking address"),
	r("198.51.100.0/24", "a documentation address"),
	r("203.0.113.0/24", "a documentation address"),
	r("224.0.0.0/4", "a multicast address"),
	r("255.255.255.255/32", "the broadcast address"),
	r("240.0.0.0/4", "a reserved address"),
)

// Special-purpose ranges inside IPv6 global unicast (2000::/3), the most specific first.
// Everything outside 2000::/3 is refused too, except the IPv4 forms handled by CheckAddr.
var specialIPv6 = ranges(
	r("2001:db8::/32", "a documentation address"),
	r("2001::/32", "a Teredo address"),
	r("2001::/23", "an IETF protocol assignment"),
	r("3fff::/20", "a documentation address"),
)

// Named ranges outside IPv6 global unicast, for clearer messages.
var otherIPv6 = ranges(
	r("::/96", "an IPv4-compatible address (deprecated)"),
	r("64:ff9b:1::/48", "a local-use NAT64 address"),
	r("100::/64", "a discard-only address"),
	r("fc00::/7", "a unique local (private network) address"),
	r("fe80::/10", "a link-local address"),
	r("fec0::/10", "a site-local address"),
	r("ff00::/8", "a multicast address"),
)

var (
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	nat64          = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
)

// CheckAddr decides whether deliveries may connect to addr: only public unicast addresses
// in live mode; those and loopback in test mode. An IPv4 address inside IPv6 (mapped,
// NAT64, 6to4) is judged by the IPv4 address. The error is an *AddrError.
func CheckAddr(addr netip.Addr, live bool) error {
	if what := addrProblem(addr, live); what != "" {
		return &AddrError{Addr: addr, What: what, Live: live}
	}
	return nil
}

// addrProblem says what addr is when the mode refuses it, or "".
func addrProblem(addr netip.Addr, live bool) string {
	switch {
	case !addr.IsValid():
		return "not an IP address"
	case addr.Zone() != "":
		return "a scoped IPv6 address"
	case addr.IsUnspecified():
		return "the unspecified address"
	case addr.Is4In6():
		if what := addrProblem(addr.Unmap(), live); what != "" {
			return what + ", written as an IPv4-mapped IPv6 address"
		}
		return ""
	case addr.Is4():
		for _, s := range specialIPv4 {
			if s.prefix.Contains(addr) && !(addr.IsLoopback() && !live) {
				return s.what
			}
		}
		return ""
	case addr == netip.IPv6Loopback():
		if live {
			return "the loopback address"
		}
		return ""
	case nat64.Contains(addr):
		return embedded(addr, 12, "NAT64")
	case sixToFour.Contains(addr):
		return embedded(addr, 2, "6to4")
	case globalUnicast6.Contains(addr):
		for _, s := range specialIPv6 {
			if s.prefix.Contains(addr) {
				return s.what
			}
		}
		return ""
	}
	for _, s := range otherIPv6 {
		if s.prefix.Contains(addr) {
			return s.what
		}
	}
	return "not a global unicast address"
}

// embedded judges the IPv4 address at byte offset of an IPv6 address of the named kind,
// always by the live rule: a translated address never leads back to this machine.
func embedded(addr netip.Addr, offset int, kind string) string {
	b := addr.As16()
	v4 := netip.AddrFrom4([4]byte(b[offset : offset+4]))
	if what := addrProblem(v4, true); what != "" {
		return "a " + kind + " address embedding " + v4.String() + ", " + what
	}
	return ""
}
