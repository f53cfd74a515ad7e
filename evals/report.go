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

// WriteLine prints one transcript's outcome: a PASS, FLAKY, FAIL or SKIP line, with how many
// runs passed when there were several, and for a failure where it happened and the first
// mismatch.
func WriteLine(w io.Writer, r Result) {
	switch {
	case r.Skipped:
		fmt.Fprintf(w, "SKIP  %s  %s\n", r.Name, r.SkipReason)
	case r.Passed && r.Runs > 1:
		fmt.Fprintf(w, "PASS  %s  (%d/%d runs passed, %d calls, %s)\n", r.Name, r.Passes, r.Runs, r.Calls, r.Duration.Round(time.Millisecond))
	case r.Passed:
		fmt.Fprintf(w, "PASS  %s  (%d calls, %s)\n", r.Name, r.Calls, r.Duration.Round(time.Millisecond))
	case r.Runs > 1:
		fmt.Fprintf(w, "%s  %s  %s  (%d/%d runs passed)\n", r.Status(), r.Name, r.Path, r.Passes, r.Runs)
		fmt.Fprint(w, indent(failureText(r), "      "))
	default:
		fmt.Fprintf(w, "FAIL  %s  %s\n", r.Name, r.Path)
		fmt.Fprint(w, indent(failureText(r), "      "))
	}
}

// failureText describes a result's failure, naming the run it comes from when there were
// several.
func failureText(r Result) string {
	if r.Failure == nil {
		return ""
	}
	if r.Runs > 1 {
		return fmt.Sprintf("run %d: %s", r.FailedRun, r.Failure.Describe())
	}
	return r.Failure.Describe()
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

// WriteSummary prints the totals and, when transcripts ran more than once, the suite's
// pass^1 … pass^k.
func WriteSummary(w io.Writer, results []Result, elapsed time.Duration) {
	t, k := Summary(results), repeats(results)
	fmt.Fprintf(w, "\n%d passed, %d failed", t.Passed, t.Failed)
	if t.Flaky > 0 {
		fmt.Fprintf(w, " (%d flaky)", t.Flaky)
	}
	if t.Skipped > 0 {
		fmt.Fprintf(w, ", %d skipped", t.Skipped)
	}
	fmt.Fprintf(w, ", %d transcripts", len(results))
	if k > 1 {
		fmt.Fprintf(w, " (%d runs each)", k)
	}
	fmt.Fprintf(w, " in %s\n", elapsed.Round(time.Millisecond))
	if curve := SuitePassK(results); k > 1 && curve != nil {
		for j, p := range curve {
			if j > 0 {
				fmt.Fprint(w, "  ")
			}
			fmt.Fprintf(w, "pass^%d %.2f", j+1, p)
		}
		fmt.Fprintln(w)
	}
}

// jsonReport is the document `relm eval --json` prints.
type jsonReport struct {
	Repeat  int          `json:"repeat"` // runs of each transcript
	Passed  int          `json:"passed"`
	Failed  int          `json:"failed"` // flaky included
	Flaky   int          `json:"flaky"`
	Skipped int          `json:"skipped"`
	PassK   []float64    `json:"pass_k"` // the suite's pass^j at index j-1; null when all were skipped
	Results []jsonResult `json:"results"`
}

type jsonResult struct {
	Result
	PassK      *float64 `json:"pass_k"` // the transcript's pass^k; null when skipped
	DurationMS int64    `json:"duration_ms"`
}

// WriteJSON writes every result as one JSON document.
func WriteJSON(w io.Writer, results []Result) error {
	t := Summary(results)
	rep := jsonReport{
		Repeat: repeats(results), Passed: t.Passed, Failed: t.Failed, Flaky: t.Flaky, Skipped: t.Skipped,
		PassK: SuitePassK(results), Results: make([]jsonResult, len(results)),
	}
	for i, r := range results {
		rep.Results[i] = jsonResult{Result: r, DurationMS: r.Duration.Milliseconds()}
		if !r.Skipped {
			p := PassK(r.Runs, r.Passes, r.Runs)
			rep.Results[i].PassK = &p
		}
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
	Name       string             `xml:"name,attr"`
	Tests      int                `xml:"tests,attr"`
	Failures   int                `xml:"failures,attr"`
	Skipped    int                `xml:"skipped,attr"`
	Time       string             `xml:"time,attr"`
	Properties *junitPropertyList `xml:"properties"`
	Cases      []junitCase        `xml:"testcase"`
}

type junitPropertyList struct {
	Properties []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitSkipped `xml:"skipped"`
	Failure   *junitFailure `xml:"failure"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the results as a JUnit XML report, one test case per transcript. When
// transcripts ran more than once, the suite's properties hold repeat and pass^1 … pass^k,
// and each test case's system-out its count of passing runs.
func WriteJUnit(w io.Writer, results []Result, elapsed time.Duration) error {
	t, k := Summary(results), repeats(results)
	s := junitSuite{Name: "relm-eval", Tests: len(results), Failures: t.Failed, Skipped: t.Skipped, Time: seconds(elapsed)}
	if k > 1 {
		s.Properties = junitPassK(k, SuitePassK(results))
	}
	for _, r := range results {
		s.Cases = append(s.Cases, junitTestCase(r))
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

// junitTestCase is one transcript's test case: failed unless every run passed.
func junitTestCase(r Result) junitCase {
	c := junitCase{Name: r.Name, ClassName: className(r.Path), Time: seconds(r.Duration)}
	switch {
	case r.Skipped:
		c.Skipped = &junitSkipped{Message: r.SkipReason}
		return c
	case r.Runs > 1:
		c.SystemOut = fmt.Sprintf("%d/%d runs passed, pass^%d %g", r.Passes, r.Runs, r.Runs, PassK(r.Runs, r.Passes, r.Runs))
	}
	if !r.Passed {
		msg := r.Failure.Message
		if r.Runs > 1 {
			msg = fmt.Sprintf("run %d of %d: %s", r.FailedRun, r.Runs, msg)
		}
		c.Failure = &junitFailure{Message: msg, Type: r.Failure.Phase, Text: failureText(r)}
	}
	return c
}

// junitPassK is the suite's properties: repeat and its pass^1 … pass^k.
func junitPassK(k int, curve []float64) *junitPropertyList {
	props := []junitProperty{{Name: "repeat", Value: fmt.Sprint(k)}}
	for j, p := range curve {
		props = append(props, junitProperty{Name: fmt.Sprintf("pass^%d", j+1), Value: fmt.Sprintf("%.4f", p)})
	}
	return &junitPropertyList{Properties: props}
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
