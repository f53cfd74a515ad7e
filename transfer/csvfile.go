package transfer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// table is a CSV file read whole: its header, its well-formed records and the records that
// could not be read, each with the line it starts on.
type table struct {
	Header    []string
	Comma     rune
	Rows      []record
	Malformed []record // Fields as far as they were read; Err says why
}

// record is one CSV record and the line of the file it starts on (the header is line 1).
type record struct {
	Line   int
	Fields []string
	Err    string
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// readTable parses a CSV file: a UTF-8 byte order mark is dropped, the delimiter is comma
// unless given (0: detected from the header line: the most frequent of , ; and tab outside
// quotes), quoted fields may span lines, and a record that cannot be read or has another
// number of fields than the header is kept aside as malformed instead of ending the read.
func readTable(data []byte, comma rune) (*table, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	if !utf8.Valid(data) {
		return nil, errors.New("the file is not UTF-8 text: save it as CSV UTF-8")
	}
	if comma == 0 {
		comma = detectComma(data)
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = comma
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	if err == io.EOF {
		return nil, errors.New("the file is empty: it needs a header line naming its columns")
	}
	if err != nil {
		return nil, fmt.Errorf("the header line: %w", err)
	}
	t := &table{Header: header, Comma: comma}
	for {
		fields, err := r.Read()
		if err == io.EOF {
			return t, nil
		}
		line, _ := r.FieldPos(0)
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			t.Malformed = append(t.Malformed, record{Line: pe.StartLine, Fields: fields, Err: "malformed_row: " + pe.Err.Error()})
		case err != nil:
			return nil, err
		case blank(fields):
			// a line of delimiters only, as spreadsheets leave at the end
		case len(fields) != len(header):
			t.Malformed = append(t.Malformed, record{Line: line, Fields: fields,
				Err: fmt.Sprintf("malformed_row: %d fields where the header has %d", len(fields), len(header))})
		default:
			t.Rows = append(t.Rows, record{Line: line, Fields: fields})
		}
	}
}

// detectComma picks the delimiter of the header line: the most frequent of , ; and tab
// outside double quotes (comma when there is none).
func detectComma(data []byte) rune {
	counts := map[rune]int{}
	quoted := false
	for _, c := range string(data) {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if !quoted && (c == '\n' || c == '\r') {
			break
		}
		if !quoted && (c == ',' || c == ';' || c == '\t') {
			counts[c]++
		}
	}
	best := ','
	for _, c := range []rune{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

func blank(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
