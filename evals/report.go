package evals

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// WriteLine prints one transcript's outcome: a PASS or FAIL line and, for a failure, where
// it happened and the first mismatch.
func WriteLine(w io.Writer, r Result) {
	if r.Passed {
		fmt.Fprintf(w, "PASS  %s  (%d calls, %s)\n", r.Name, r.Calls, r.Duration.Round(time.Millisecond))
		return
	}
	fmt.Fprintf(w, "FAIL  %s  %s\n", r.Name, r.Path)
	fmt.Fprint(w, indent(r.Failure.Describe(), "      "))
}

// Describe explains a failure in a few lines: the step, the JSON path, expected and got.
func (f *Failure) Describe() string {
	var b strings.Builder
	if f.Phase == "connect" {
		fmt.Fprintf(&b, "could not start: %s\n", f.Message)
		return b.String()
	}
	where := fmt.Sprintf("%s %d", phase{name: f.Phase}.label(), f.Step)
	fmt.Fprintf(&b, "%s: %s", where, f.Tool)
	if f.Note != "" {
		fmt.Fprintf(&b, " (%s)", f.Note)
	}
	b.WriteString("\n")
	if f.Path != "" || f.Expected != nil {
		path := f.Path
		if path == "" {
			path = "(the whole result)"
		}
		fmt.Fprintf(&b, "  at %s: %s\n", path, f.Message)
	} else {
		fmt.Fprintf(&b, "  %s\n", f.Message)
	}
	if f.Expected != nil {
		fmt.Fprintf(&b, "  expected: %s\n", clip(f.Expected, 400))
	}
	if f.Got != nil {
		fmt.Fprintf(&b, "  got:      %s\n", clip(f.Got, 400))
	} else if f.Expected != nil && f.Path != "" {
		b.WriteString("  got:      (missing)\n")
	}
	return b.String()
}

func clip(raw json.RawMessage, n int) string {
	s := string(raw)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}

// WriteTrace prints one call of a transcript: its arguments and what came back.
func WriteTrace(w io.Writer, t *Transcript, c Trace) {
	args, _ := json.Marshal(c.Arguments)
	fmt.Fprintf(w, "%s  %s %d  %s %s\n", t.Name, c.Phase, c.Step, c.Tool, args)
	switch {
	case c.Err != nil:
		fmt.Fprintf(w, "    -> protocol error: %v\n", c.Err)
	case c.IsError:
		fmt.Fprintf(w, "    -> isError %s\n", raw(c.Body))
	default:
		fmt.Fprintf(w, "    -> %s\n", raw(c.Body))
	}
}

// WriteSummary prints the totals.
func WriteSummary(w io.Writer, results []Result, elapsed time.Duration) {
	passed, failed := Summary(results)
	fmt.Fprintf(w, "\n%d passed, %d failed, %d transcripts in %s\n", passed, failed, len(results), elapsed.Round(time.Millisecond))
}

// jsonReport is the document `relm eval --json` prints.
type jsonReport struct {
	Passed  int          `json:"passed"`
	Failed  int          `json:"failed"`
	Results []jsonResult `json:"results"`
}

type jsonResult struct {
	Result
	DurationMS int64 `json:"duration_ms"`
}

// WriteJSON writes every result as one JSON document.
func WriteJSON(w io.Writer, results []Result) error {
	rep := jsonReport{Results: make([]jsonResult, len(results))}
	rep.Passed, rep.Failed = Summary(results)
	for i, r := range results {
		rep.Results[i] = jsonResult{Result: r, DurationMS: r.Duration.Milliseconds()}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the results as a JUnit XML report, one test case per transcript.
func WriteJUnit(w io.Writer, results []Result, elapsed time.Duration) error {
	s := junitSuite{Name: "relm-eval", Tests: len(results), Time: seconds(elapsed)}
	for _, r := range results {
		c := junitCase{Name: r.Name, ClassName: className(r.Path), Time: seconds(r.Duration)}
		if !r.Passed {
			s.Failures++
			c.Failure = &junitFailure{Message: r.Failure.Message, Type: r.Failure.Phase, Text: r.Failure.Describe()}
		}
		s.Cases = append(s.Cases, c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// className groups test cases by the transcript's directory: evals/suite/deals -> evals.suite.deals.
func className(path string) string {
	dir := strings.Trim(filepath.ToSlash(filepath.Dir(path)), "./")
	if dir == "" {
		return "relm-eval"
	}
	return strings.ReplaceAll(dir, "/", ".")
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
