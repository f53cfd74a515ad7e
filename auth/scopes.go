package auth

import (
	"slices"
	"strings"
)

// Scopes are what an API key may do, as space-separated grants: "read" or "write" (every
// toolset), or "TOOLSET:read" / "TOOLSET:write" (one toolset, such as contacts:write).
// write includes read. The empty Scopes is full access, as every key had before scopes.
type Scopes string

// Full is the access of an unscoped key.
const Full Scopes = ""

// Allows reports whether the scopes let a key call a tool of toolset that writes (write)
// or only reads.
func (s Scopes) Allows(toolset string, write bool) bool {
	if s == Full {
		return true
	}
	for _, g := range strings.Fields(string(s)) {
		set, level, scoped := strings.Cut(g, ":")
		if !scoped {
			set, level = "", g
		}
		if (set == "" || set == toolset) && (level == "write" || level == "read" && !write) {
			return true
		}
	}
	return false
}

// Within reports whether every grant of s is allowed by outer, so that a key with outer's
// scopes may make a key with s: no key makes one with more access than its own.
func (s Scopes) Within(outer Scopes, toolsets []string) bool {
	if outer == Full {
		return true
	}
	if s == Full {
		return false
	}
	for _, g := range strings.Fields(string(s)) {
		set, level, scoped := strings.Cut(g, ":")
		write := level == "write" || (!scoped && set == "write")
		sets := []string{set}
		if !scoped {
			sets = toolsets
		}
		for _, ts := range sets {
			if !outer.Allows(ts, write) {
				return false
			}
		}
	}
	return true
}

// Canonical is s with its grants sorted and repeated ones dropped.
func (s Scopes) Canonical() Scopes {
	g := strings.Fields(string(s))
	slices.Sort(g)
	return Scopes(strings.Join(slices.Compact(g), " "))
}
