package evals_test

import (
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/relmcrm/relm/evals"
	"github.com/relmcrm/relm/evals/sandbox"
	"github.com/relmcrm/relm/prompts"
	"github.com/relmcrm/relm/resources"
	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/pgtest"
	"github.com/relmcrm/relm/tools"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// newSandbox serves Relm in-process over a fresh database.
func newSandbox(t *testing.T) (*sandbox.Sandbox, *store.Store, *store.Admin) {
	t.Helper()
	s, admin, _ := pgtest.Open(t)
	sb, err := sandbox.New(s, admin, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	return sb, s, admin
}

func loadSuite(t *testing.T) []*evals.Transcript {
	t.Helper()
	ts, err := evals.Load("suite")
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestSuite replays every transcript of evals/suite, each in a fresh workspace, through the
// same runner as `relm eval`.
func TestSuite(t *testing.T) {
	t.Parallel()
	sb, _, _ := newSandbox(t)
	runner := &evals.Runner{Target: sb}
	for _, tr := range loadSuite(t) {
		t.Run(tr.Name, func(t *testing.T) {
			t.Parallel()
			if r := runner.RunOne(t.Context(), tr); !r.Passed {
				t.Fatalf("%s\n%s", tr.Path, r.Failure.Describe())
			}
		})
	}
}

// TestSuiteCoversEveryTool fails when a tool of the registry has no transcript calling it,
// or none showing its likeliest mistake (a step that expects an error from it).
func TestSuiteCoversEveryTool(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t)
	called, mistaken := map[string]bool{}, map[string]bool{}
	for _, tr := range loadSuite(t) {
		for _, s := range slices.Concat(tr.Setup, tr.Steps, tr.FinalState) {
			name := registryName(t, reg, tr, s.Tool)
			called[name] = true
			if s.Expect != nil && s.Expect.Error != nil {
				mistaken[name] = true
			}
		}
	}
	var uncalled, unmistaken []string
	for _, e := range reg.Entries() {
		if !called[e.Name] {
			uncalled = append(uncalled, e.Name)
		} else if !mistaken[e.Name] {
			unmistaken = append(unmistaken, e.Name)
		}
	}
	if len(uncalled) > 0 {
		t.Errorf("no transcript in evals/suite calls %s: add one per tool (its happy path and the likeliest agent mistake)", strings.Join(uncalled, ", "))
	}
	if len(unmistaken) > 0 {
		t.Errorf("no transcript in evals/suite shows a mistake with %s: add a step that expects its likeliest error", strings.Join(unmistaken, ", "))
	}
}

// TestSuiteCoversEveryToolset fails when a toolset of the registry, or core, has no
// transcript narrowed to it (toolsets set, naming it) whose steps call one of its tools: the
// suite shows every selection an agent may connect with at work.
func TestSuiteCoversEveryToolset(t *testing.T) {
	t.Parallel()
	reg := newRegistry(t)
	toolsetOf := map[string]string{}
	for _, e := range reg.Entries() {
		toolsetOf[e.Name] = e.Toolset
	}
	serves := func(set, tool string) bool {
		if set == tools.CoreToolset {
			return slices.Contains(tools.CoreTools, tool)
		}
		return toolsetOf[tool] == set
	}
	suite := loadSuite(t)
	var missing []string
	for _, set := range append(reg.Toolsets(), tools.CoreToolset) {
		shown := slices.ContainsFunc(suite, func(tr *evals.Transcript) bool {
			narrowed := slices.Contains(tr.Toolsets, set) && !slices.Contains(tr.Toolsets, tools.AllToolsets)
			return narrowed && slices.ContainsFunc(tr.Steps, func(s evals.Step) bool { return serves(set, registryName(t, reg, tr, s.Tool)) })
		})
		if !shown {
			missing = append(missing, set)
		}
	}
	if len(missing) > 0 {
		t.Errorf("no transcript in evals/suite connects with a selection naming %s and calls one of its tools in its steps: set \"toolsets\" on a transcript whose every call the selection serves, or add one", strings.Join(missing, ", "))
	}
}

// registryName is the registry's name of the tool a step of tr calls, as tr's connection
// serves it: search is chatgpt_search under ?toolsets=chatgpt. A name the connection does
// not serve stays as it is.
func registryName(t *testing.T, reg *tools.Registry, tr *evals.Transcript, tool string) string {
	t.Helper()
	sel := tools.Selection{} // a transcript without toolsets connects with all
	if len(tr.Toolsets) > 0 {
		var err *tools.Error
		if sel, err = reg.SelectionOf(strings.Join(tr.Toolsets, ","), ""); err != nil {
			t.Fatalf("%s: %s", tr.Path, err.Message)
		}
	}
	if e, ok := reg.LookupTool(sel, tool); ok {
		return e.Name
	}
	return tool
}

// newRegistry is the registry of every tool, as the server builds it.
func newRegistry(t *testing.T) *tools.Registry {
	t.Helper()
	reg, err := tools.NewRegistry(slog.New(slog.DiscardHandler), tools.All(nil)...)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestSuiteCoversPromptsAndResources fails when a prompt has no transcript getting it or
// completing one of its arguments, or a resource template none reading it.
func TestSuiteCoversPromptsAndResources(t *testing.T) {
	t.Parallel()
	prompted, read := map[string]bool{}, map[string]bool{}
	completed := false
	for _, tr := range loadSuite(t) {
		for _, s := range slices.Concat(tr.Setup, tr.Steps, tr.FinalState) {
			prompted[s.Prompt] = true
			if s.Complete != nil {
				completed = true
			}
			if scheme, _, ok := strings.Cut(strings.TrimPrefix(s.Resource, "relm://"), "/"); ok {
				read["relm://"+scheme+"/"] = true
			}
		}
	}
	for _, name := range prompts.Names() {
		if !prompted[name] {
			t.Errorf("no transcript in evals/suite gets the prompt %s", name)
		}
	}
	for _, uri := range resources.TemplateURIs() {
		if prefix, _, _ := strings.Cut(uri, "{"); !read[prefix] {
			t.Errorf("no transcript in evals/suite reads a resource of %s", uri)
		}
	}
	if !completed {
		t.Error("no transcript in evals/suite completes an argument")
	}
}

// TestReadmeExample replays the example transcript of the README, so that it stays true.
func TestReadmeExample(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, evalsSection, ok := strings.Cut(string(readme), "## Evals")
	_, example, ok2 := strings.Cut(evalsSection, "```json\n")
	example, _, ok3 := strings.Cut(example, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no example transcript under ## Evals")
	}
	tr, err := evals.Parse("README.md", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	sb, _, _ := newSandbox(t)
	if r := (&evals.Runner{Target: sb}).RunOne(t.Context(), tr); !r.Passed {
		t.Fatalf("%s", r.Failure.Describe())
	}
}
