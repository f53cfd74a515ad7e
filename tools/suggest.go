package tools

import "strings"

// maxSuggestedLen bounds what closest compares: a longer value is no typo, and comparing
// it would cost time in proportion to its length.
const maxSuggestedLen = 100

// closest returns the option nearest to got by edit distance, when it is close enough to
// be a likely typo (at most a third of its length away), or "".
func closest(got string, options []string) string {
	if len(got) > maxSuggestedLen {
		return ""
	}
	best, bestDist := "", len(got)/3+1
	for _, o := range options {
		if d := editDistance(strings.ToLower(got), strings.ToLower(o)); d < bestDist {
			best, bestDist = o, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
