package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// helpRequest is the error parseFlags returns for -h or --help: it carries the command's
// flags so that run can print them with the command's help.
type helpRequest struct{ flags *flag.FlagSet }

func (h *helpRequest) Error() string { return "help requested" }
func (h *helpRequest) Unwrap() error { return flag.ErrHelp }

// parseFlags parses a command's flags. -h and --help answer a helpRequest (run prints the
// command's help on stdout); a bad flag is an error that says where the flags are listed.
// Commands parse their flags with it before doing anything else.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return &helpRequest{flags: fs}
	}
	if err != nil {
		return usageError{fmt.Errorf("%w (relm %s --help lists its flags)", err, fs.Name())}
	}
	return nil
}

// overview is what `relm`, `relm help` and `relm --help` print: every command of the table.
func overview() string {
	var b strings.Builder
	b.WriteString("relm — an MCP-first, API-first CRM server\n\nUsage: relm COMMAND [flags]\n\nCommands:\n")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.Name))
	}
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.Name, c.Summary)
	}
	b.WriteString(`
Database commands run a private PostgreSQL cluster in --data-dir (RELM_DATA_DIR) unless
--database-url (RELM_DATABASE_URL) names a database; import and export are API clients of
a running server (--url/RELM_URL, --key/RELM_API_KEY). Flags fall back to RELM_* variables.

relm help COMMAND (or relm COMMAND --help) describes a command, its flags and examples.
`)
	return b.String()
}

// lookup finds the command args name, longest name first ("keys create" before "keys"),
// and returns the arguments after its name. With no command, group is the first word when
// it begins the names of commands ("keys"), else "".
func lookup(args []string) (cmd *command, rest []string, group string) {
	for i := range commands {
		words := strings.Fields(commands[i].Name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == commands[i].Name {
			if cmd == nil || len(words) > len(strings.Fields(cmd.Name)) {
				cmd, rest = &commands[i], args[len(words):]
			}
		}
	}
	if cmd == nil && len(args) > 0 && len(groupCommands(args[0])) > 0 {
		group = args[0]
	}
	return cmd, rest, group
}

// groupCommands are the commands whose name begins with the word group.
func groupCommands(group string) []command {
	var out []command
	for _, c := range commands {
		if strings.HasPrefix(c.Name, group+" ") {
			out = append(out, c)
		}
	}
	return out
}

// groupHelp lists the commands of a group ("relm keys …").
func groupHelp(group string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "relm %s: one of\n", group)
	for _, c := range groupCommands(group) {
		fmt.Fprintf(&b, "  relm %s %s\n      %s\n", c.Name, c.Usage, c.Summary)
	}
	fmt.Fprintf(&b, "\nrelm %s SUBCOMMAND --help describes one.\n", group)
	return b.String()
}

// writeHelp prints a command's help: usage, description, flags (when its flag set is
// known) and examples.
func writeHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: relm %s %s\n\n%s\n", c.Name, c.Usage, strings.TrimSpace(c.Doc))
	if fs != nil {
		var flags strings.Builder
		fs.VisitAll(func(f *flag.Flag) { writeFlag(&flags, f) })
		if flags.Len() > 0 {
			fmt.Fprintf(w, "\nFlags:\n%s", flags.String())
		}
	}
	if len(c.Examples) > 0 {
		fmt.Fprint(w, "\nExamples:\n")
		for _, e := range c.Examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

var envName = regexp.MustCompile(`\((RELM_[A-Z0-9_]+)\)`)

// writeFlag prints one flag and its usage. A default that came from a RELM_* variable is
// not shown, only that the variable is set: it may be a key or a password.
func writeFlag(w io.Writer, f *flag.Flag) {
	name, usage := flag.UnquoteUsage(f)
	fmt.Fprintf(w, "  --%s", f.Name)
	if name != "" {
		fmt.Fprintf(w, " %s", name)
	}
	fmt.Fprintf(w, "\n      %s", usage)
	if m := envName.FindStringSubmatch(usage); m != nil && os.Getenv(m[1]) != "" {
		fmt.Fprintf(w, " (now set by %s)", m[1])
	} else if d := f.DefValue; d != "" && d != "0" && d != "false" {
		fmt.Fprintf(w, " (default %s)", d)
	}
	fmt.Fprintln(w)
}
