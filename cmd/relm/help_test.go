package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestHelp: every command of the table answers --help, -h and `relm help NAME` on stdout
// without error, with its usage, flags and examples; the overview lists every command.
func TestHelp(t *testing.T) {
	var overview bytes.Buffer
	if err := run(t.Context(), []string{"help"}, &overview, quietLog()); err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		if !strings.Contains(overview.String(), "  "+c.Name+" ") || !strings.Contains(overview.String(), c.Summary) {
			t.Errorf("the overview does not list %q:\n%s", c.Name, overview.String())
		}
		if c.Summary == "" || c.Doc == "" || len(c.Examples) == 0 {
			t.Errorf("%s needs a summary, a description and examples", c.Name)
		}
		name := strings.Fields(c.Name)
		var outs []string
		for _, args := range [][]string{append(name[:len(name):len(name)], "--help"), append(name[:len(name):len(name)], "-h"), append([]string{"help"}, name...)} {
			var out bytes.Buffer
			if err := run(t.Context(), args, &out, quietLog()); err != nil {
				t.Errorf("relm %s: %v", strings.Join(args, " "), err)
				continue
			}
			outs = append(outs, out.String())
		}
		if len(outs) != 3 {
			continue
		}
		if outs[0] != outs[1] || outs[0] != outs[2] {
			t.Errorf("%s: --help, -h and help differ:\n%s\n---\n%s\n---\n%s", c.Name, outs[0], outs[1], outs[2])
		}
		h := outs[0]
		if !strings.HasPrefix(h, "Usage: relm "+c.Name+" ") || !strings.Contains(h, "\nFlags:\n  --") {
			t.Errorf("%s --help lacks its usage or flags:\n%s", c.Name, h)
		}
		for _, e := range c.Examples {
			if !strings.Contains(h, "  "+e+"\n") {
				t.Errorf("%s --help lacks the example %q", c.Name, e)
			}
		}
	}
}

// TestHelpHidesEnvironmentValues: a flag whose default comes from a set RELM_* variable
// says so without printing the value, which may be a secret.
func TestHelpHidesEnvironmentValues(t *testing.T) {
	t.Setenv("RELM_SECRET_KEY", "not-for-your-eyes")
	var out bytes.Buffer
	if err := run(t.Context(), []string{"serve", "--help"}, &out, quietLog()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "not-for-your-eyes") || !strings.Contains(out.String(), "(now set by RELM_SECRET_KEY)") {
		t.Fatalf("serve --help:\n%s", out.String())
	}
}

// TestUnknownCommands: an unknown command, subcommand or flag fails with exit status 2 and
// says where to look; relm alone exits 2 too; a group answers --help with its commands.
func TestUnknownCommands(t *testing.T) {
	for args, want := range map[string]string{
		"frobnicate":       `unknown command "frobnicate" (relm help lists the commands)`,
		"keys rotate":      `unknown command "keys rotate" (usage: relm keys create`,
		"keys":             `unknown command "keys" (usage: relm keys create`,
		"help frobnicate":  `no command is called "frobnicate"`,
		"export --format":  "flag needs an argument: -format (relm export --help lists its flags)",
		"migrate --bogus":  "flag provided but not defined: -bogus (relm migrate --help lists its flags)",
		"openapi --format": "flag needs an argument",
	} {
		err := run(t.Context(), strings.Fields(args), &bytes.Buffer{}, quietLog())
		if err == nil || !strings.Contains(err.Error(), want) || exitCode(err) != 2 {
			t.Errorf("relm %s: %v (exit status %d), want %q and exit status 2", args, err, exitCode(err), want)
		}
	}
	if err := run(t.Context(), nil, &bytes.Buffer{}, quietLog()); exitCode(err) != 2 {
		t.Errorf("relm alone: %v", err)
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"keys", "--help"}, &out, quietLog()); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"keys create", "keys list", "keys revoke"} {
		if !strings.Contains(out.String(), "relm "+sub+" ") {
			t.Errorf("keys --help lacks %s:\n%s", sub, out.String())
		}
	}
}

// TestCommandsDocumented keeps docs/cli.md's table in step with the table of commands.
func TestCommandsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		if !strings.Contains(string(doc), "| `"+c.Name) && !strings.Contains(string(doc), ", `"+c.Name+"`") {
			t.Errorf("docs/cli.md does not list %s", c.Name)
		}
	}
}
