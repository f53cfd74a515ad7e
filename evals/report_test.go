package evals_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"math"
	"testing"

	"github.com/relmcrm/relm/evals"
)

// coinResults replays the coin transcripts k times: steady always passes, flaky fails its
// runs 2 and 4, broken every run, and declined is skipped. Durations are zeroed so that
// reports compare exactly.
func coinResults(t *testing.T, k int) []evals.Result {
	t.Helper()
	target := newCoinTarget(map[string][]int{"flaky": {2, 4}, "broken": {1, 2, 3, 4}}, map[string]string{"declined": "needs a team plan"})
	results := (&evals.Runner{Target: target, Repeat: k}).Run(t.Context(), coinTranscripts(t), nil)
	for i := range results {
		results[i].Duration = 0
	}
	return results
}

func textReport(results []evals.Result) string {
	var b bytes.Buffer
	for _, r := range results {
		evals.WriteLine(&b, r)
	}
	evals.WriteSummary(&b, results, 0)
	return b.String()
}

// TestTextReportRepeat shows runs passed per transcript, the first failing run, and the
// suite's pass^1 … pass^k.
func TestTextReportRepeat(t *testing.T) {
	t.Parallel()
	want := `PASS  steady  (4/4 runs passed, 1 calls, 0s)
FLAKY  flaky  coin/flaky.json  (2/4 runs passed)
      run 2: step 1: coin (toss)
        at /side: the value differs
        expected: "heads"
        got:      "tails"
FAIL  broken  coin/broken.json  (0/4 runs passed)
      run 1: step 1: coin (toss)
        at /side: the value differs
        expected: "heads"
        got:      "tails"
SKIP  declined  needs a team plan

1 passed, 2 failed (1 flaky), 1 skipped, 4 transcripts (4 runs each) in 0s
pass^1 0.50  pass^2 0.39  pass^3 0.33  pass^4 0.33
`
	if got := textReport(coinResults(t, 4)); got != want {
		t.Errorf("text report:\n%s\nwant:\n%s", got, want)
	}
}

// TestTextReportOnce keeps the lines of a single run as they were before --repeat.
func TestTextReportOnce(t *testing.T) {
	t.Parallel()
	want := `PASS  steady  (1 calls, 0s)
PASS  flaky  (1 calls, 0s)
FAIL  broken  coin/broken.json
      step 1: coin (toss)
        at /side: the value differs
        expected: "heads"
        got:      "tails"
SKIP  declined  needs a team plan

2 passed, 1 failed, 1 skipped, 4 transcripts in 0s
`
	if got := textReport(coinResults(t, 1)); got != want {
		t.Errorf("text report:\n%s\nwant:\n%s", got, want)
	}
}

// TestJSONReportRepeat carries the runs and pass^k of each transcript and the suite's curve.
func TestJSONReportRepeat(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := evals.WriteJSON(&b, coinResults(t, 4)); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Repeat, Passed, Failed, Flaky, Skipped int
		PassK                                  []float64 `json:"pass_k"`
		Results                                []struct {
			Name                string
			SkipReason          string `json:"skip_reason"`
			Passed, Skipped     bool
			Runs, Passes, Calls int
			FailedRun           int      `json:"failed_run"`
			PassK               *float64 `json:"pass_k"`
			Failure             *struct{ Path string }
		}
	}
	if err := json.Unmarshal(b.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if rep.Repeat != 4 || rep.Passed != 1 || rep.Failed != 2 || rep.Flaky != 1 || rep.Skipped != 1 || len(rep.Results) != 4 {
		t.Fatalf("report:\n%s", b.String())
	}
	wantCurve := []float64{0.5, 7.0 / 18, 1.0 / 3, 1.0 / 3}
	for j, p := range wantCurve {
		if len(rep.PassK) != len(wantCurve) || math.Abs(rep.PassK[j]-p) > 1e-9 {
			t.Fatalf("pass_k %v, want %v", rep.PassK, wantCurve)
		}
	}
	steady, flaky, broken, declined := rep.Results[0], rep.Results[1], rep.Results[2], rep.Results[3]
	if !steady.Passed || steady.Runs != 4 || steady.Passes != 4 || steady.PassK == nil || *steady.PassK != 1 || steady.Failure != nil {
		t.Errorf("steady: %+v", steady)
	}
	if flaky.Passed || flaky.Passes != 2 || flaky.PassK == nil || *flaky.PassK != 0 || flaky.FailedRun != 2 || flaky.Failure == nil || flaky.Failure.Path != "/side" {
		t.Errorf("flaky: %+v", flaky)
	}
	if broken.Passed || broken.Passes != 0 || broken.FailedRun != 1 {
		t.Errorf("broken: %+v", broken)
	}
	if !declined.Skipped || declined.SkipReason != "needs a team plan" || declined.PassK != nil || declined.Passed || declined.Failure != nil {
		t.Errorf("declined: %+v", declined)
	}
}

type junitReport struct {
	Suites []struct {
		Tests      int `xml:"tests,attr"`
		Failures   int `xml:"failures,attr"`
		Skipped    int `xml:"skipped,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func junit(t *testing.T, results []evals.Result) junitReport {
	t.Helper()
	var b bytes.Buffer
	if err := evals.WriteJUnit(&b, results, 0); err != nil {
		t.Fatal(err)
	}
	var rep junitReport
	if err := xml.Unmarshal(b.Bytes(), &rep); err != nil || len(rep.Suites) != 1 || len(rep.Suites[0].Cases) != 4 {
		t.Fatalf("%v\n%s", err, b.String())
	}
	return rep
}

// TestJUnitReportRepeat has one test case per transcript, failed unless every run passed,
// with the runs in system-out, pass^j in the suite's properties and skips as <skipped>.
func TestJUnitReportRepeat(t *testing.T) {
	t.Parallel()
	s := junit(t, coinResults(t, 4)).Suites[0]
	if s.Tests != 4 || s.Failures != 2 || s.Skipped != 1 {
		t.Errorf("suite: tests %d, failures %d, skipped %d", s.Tests, s.Failures, s.Skipped)
	}
	props := map[string]string{}
	for _, p := range s.Properties {
		props[p.Name] = p.Value
	}
	if props["repeat"] != "4" || props["pass^1"] != "0.5000" || props["pass^2"] != "0.3889" || props["pass^4"] != "0.3333" {
		t.Errorf("properties: %v", props)
	}
	steady, flaky, broken, declined := s.Cases[0], s.Cases[1], s.Cases[2], s.Cases[3]
	if steady.Failure != nil || steady.Skipped != nil || steady.SystemOut != "4/4 runs passed, pass^4 1" {
		t.Errorf("steady: %+v", steady)
	}
	if flaky.Failure == nil || flaky.Failure.Message != "run 2 of 4: the value differs" || flaky.SystemOut != "2/4 runs passed, pass^4 0" {
		t.Errorf("flaky: %+v", flaky)
	}
	if broken.Failure == nil || broken.Failure.Message != "run 1 of 4: the value differs" {
		t.Errorf("broken: %+v", broken)
	}
	if declined.Skipped == nil || declined.Skipped.Message != "needs a team plan" || declined.Failure != nil {
		t.Errorf("declined: %+v", declined)
	}
}

// TestJUnitReportOnce adds no properties or system-out to a single run's report.
func TestJUnitReportOnce(t *testing.T) {
	t.Parallel()
	s := junit(t, coinResults(t, 1)).Suites[0]
	if s.Failures != 1 || s.Skipped != 1 || len(s.Properties) != 0 {
		t.Errorf("suite: %+v", s)
	}
	for _, c := range s.Cases {
		if c.SystemOut != "" {
			t.Errorf("%s: system-out %q", c.Name, c.SystemOut)
		}
	}
	if f := s.Cases[2].Failure; f == nil || f.Message != "the value differs" {
		t.Errorf("broken: %+v", f)
	}
}
