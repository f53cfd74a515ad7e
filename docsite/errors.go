package docsite

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/relmcrm/relm/tools"
)

// errorCode is one error code with its status and what it means.
type errorCode struct {
	Code    tools.Code
	Status  int
	Meaning string // Markdown, from docs/errors.md
	Spans   []span
}

// errorCodes reads the meaning of every code in tools.Codes from the codes table of
// errorsDoc (docs/errors.md), ordered by status then code. A code the table lacks keeps
// an empty meaning rather than stopping the server (TestErrorMeanings and the tools
// package's TestErrorCodesDocumented fail on it); a row giving another status is an error.
func errorCodes(errorsDoc string) ([]errorCode, error) {
	rows := map[tools.Code]errorCode{}
	for line := range strings.SplitSeq(errorsDoc, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.SplitN(strings.Trim(line, "|"), "|", 3)
		if len(cells) != 3 {
			continue
		}
		code := tools.Code(strings.Trim(strings.TrimSpace(cells[0]), "`"))
		status, err := strconv.Atoi(strings.TrimSpace(cells[1]))
		if err != nil {
			continue
		}
		meaning := strings.TrimSpace(cells[2])
		rows[code] = errorCode{Code: code, Status: status, Meaning: meaning, Spans: parseInline(meaning)}
	}
	var out []errorCode
	for code, status := range tools.Codes {
		row, ok := rows[code]
		if !ok {
			row = errorCode{Code: code, Status: status}
		}
		if row.Status != status {
			return nil, fmt.Errorf("docsite: docs/errors.md gives %s status %d, the code %d", code, row.Status, status)
		}
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b errorCode) int {
		return cmp.Or(cmp.Compare(a.Status, b.Status), cmp.Compare(a.Code, b.Code))
	})
	return out, nil
}
