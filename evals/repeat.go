package evals

// combineRuns is the result of a transcript from the results of its runs, in run order:
// passed when every run passed, skipped when the target declined any run, and otherwise
// carrying the failure of the first run that failed.
func combineRuns(runs []Result) Result {
	res := Result{Name: runs[0].Name, Path: runs[0].Path, Runs: len(runs), Calls: runs[0].Calls}
	for i, r := range runs {
		res.Duration += r.Duration
		switch {
		case r.Skipped:
			if !res.Skipped {
				res.Skipped, res.SkipReason = true, r.SkipReason
			}
		case r.Passed:
			res.Passes++
		case res.Failure == nil:
			res.Failure, res.FailedRun, res.Calls = r.Failure, i+1, r.Calls
		}
	}
	if res.Skipped {
		res.Passes, res.Failure, res.FailedRun, res.Calls = 0, nil, 0, 0
	}
	res.Passed = !res.Skipped && res.Passes == res.Runs
	return res
}

// Status is the label of a result in reports: PASS when every run passed, FLAKY when some
// did and some did not, FAIL when none did, SKIP when the target declined the transcript.
func (r Result) Status() string {
	switch {
	case r.Skipped:
		return "SKIP"
	case r.Passed:
		return "PASS"
	case r.Passes > 0:
		return "FLAKY"
	}
	return "FAIL"
}

// PassK is pass^j of a transcript with c passing runs out of n: C(c, j) / C(n, j), the
// unbiased estimate of the probability that j independent runs all pass (τ²-bench's
// reliability measure). pass^n is 1 when every run passed and 0 otherwise.
func PassK(n, c, j int) float64 {
	if j < 0 || c < j || n < c {
		return 0
	}
	num, den := 1.0, 1.0 // products of small integers: exact, then one rounding
	for i := range j {
		num *= float64(c - i)
		den *= float64(n - i)
	}
	return num / den
}

// SuitePassK is the suite's pass^1 … pass^k, at index j-1: the mean of its transcripts'
// pass^j, where k is their number of runs. Skipped transcripts are left out; it is nil
// when every transcript was skipped.
func SuitePassK(results []Result) []float64 {
	k, counted := 0, 0
	for _, r := range results {
		if !r.Skipped {
			k, counted = max(k, r.Runs), counted+1
		}
	}
	if counted == 0 {
		return nil
	}
	curve := make([]float64, k)
	for _, r := range results {
		if r.Skipped {
			continue
		}
		for j := range curve {
			curve[j] += PassK(r.Runs, r.Passes, j+1)
		}
	}
	for j := range curve {
		curve[j] /= float64(counted)
	}
	return curve
}

// Totals counts a suite's transcripts by outcome.
type Totals struct {
	Passed  int // every run passed
	Failed  int // some run failed (Flaky included)
	Flaky   int // some runs passed and some failed
	Skipped int // declined by the target
}

// Summary counts results by outcome.
func Summary(results []Result) Totals {
	var t Totals
	for _, r := range results {
		switch r.Status() {
		case "PASS":
			t.Passed++
		case "SKIP":
			t.Skipped++
		case "FLAKY":
			t.Flaky++
			t.Failed++
		default:
			t.Failed++
		}
	}
	return t
}

// repeats is the number of runs per transcript of a suite's results.
func repeats(results []Result) int {
	k := 1
	for _, r := range results {
		k = max(k, r.Runs)
	}
	return k
}
