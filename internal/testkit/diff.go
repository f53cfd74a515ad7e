// Package testkit is the plumbing Relm's tests share: line diffs for golden files, a
// transport that sends an API key, an MCP client session over streamable HTTP, and raw
// database connections for reaching under the API.
package testkit

import (
	"fmt"
	"strings"
)

// maxDiffCells bounds the work of a diff: past it, the differing middle is shown whole.
const maxDiffCells = 4_000_000

// Diff is a unified-style line diff from want to got, with three lines of context around
// each change, or "" when they are equal. Lines start with " ", "-" (only in want) or "+"
// (only in got); hunks start with an "@@ -line +line @@" header.
func Diff(wantName, gotName string, want, got []byte) string {
	if string(want) == string(got) {
		return ""
	}
	a, b := lines(want), lines(got)
	// The common head and tail need no search; a change is usually small.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []op
	for i := range pre {
		ops = append(ops, op{' ', a[i]})
	}
	ops = append(ops, middle(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	for i := len(a) - suf; i < len(a); i++ {
		ops = append(ops, op{' ', a[i]})
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", wantName, gotName)
	writeHunks(&out, ops, 3)
	return out.String()
}

type op struct {
	kind byte // ' ', '-' or '+'
	line string
}

func lines(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// middle is the edit script from a to b by longest common subsequence.
func middle(a, b []string) []op {
	var ops []op
	if len(a)*len(b) > maxDiffCells {
		for _, l := range a {
			ops = append(ops, op{'-', l})
		}
		for _, l := range b {
			ops = append(ops, op{'+', l})
		}
		return ops
	}
	// lcs[i][j] is the length of the LCS of a[i:] and b[j:].
	lcs := make([][]int32, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			ops = append(ops, op{' ', a[i]})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', a[i]})
			i++
		default:
			ops = append(ops, op{'+', b[j]})
			j++
		}
	}
	return ops
}

// writeHunks prints the changes in ops with context lines around each.
func writeHunks(out *strings.Builder, ops []op, context int) {
	// The line numbers, in want and in got, at which each op starts.
	aLine, bLine := make([]int, len(ops)), make([]int, len(ops))
	na, nb := 1, 1
	for k, o := range ops {
		aLine[k], bLine[k] = na, nb
		if o.kind != '+' {
			na++
		}
		if o.kind != '-' {
			nb++
		}
	}
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			k++
			continue
		}
		start := max(0, k-context)
		end := k // one past the hunk's last change
		for end < len(ops) {
			next := end
			for next < len(ops) && ops[next].kind == ' ' {
				next++
			}
			if next == len(ops) || next-end > 2*context {
				break
			}
			for next < len(ops) && ops[next].kind != ' ' {
				next++
			}
			end = next
		}
		stop := min(len(ops), end+context)
		fmt.Fprintf(out, "@@ -%d +%d @@\n", aLine[start], bLine[start])
		for _, o := range ops[start:stop] {
			out.WriteByte(o.kind)
			out.WriteString(o.line)
			out.WriteByte('\n')
		}
		k = stop
	}
}
