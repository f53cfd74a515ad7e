package evals

import (
	"flag"
	"strings"
	"testing"

	"github.com/relmcrm/relm/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite transcript.schema.json from the Go types")

// TestSchemaFile fails when transcript.schema.json differs from what the Go types generate;
// -update rewrites it.
func TestSchemaFile(t *testing.T) {
	t.Parallel()
	got := generateSchema()
	if _, err := compileSchema(got); err != nil {
		t.Fatalf("the generated schema does not compile: %v", err)
	}
	testkit.Golden(t, "transcript.schema.json", got, *update, "The schema drifted from the Go types: if the change is intended, run `go generate ./evals` (or `just update-golden`) and review the diff.")
}

// wrap puts one step into an otherwise valid transcript.
func wrap(step string) string {
	return `{"name":"x","description":"d","steps":[` + step + `]}`
}

// TestSchemaRejects lists the mistakes the transcript schema catches when a transcript
// loads, each with where the message must point.
func TestSchemaRejects(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, doc, at string }{
		// the transcript
		{"unknown top-level key", `{"name":"x","description":"d","steps":[{"tool":"t"}],"extra":1}`, "the top level"},
		{"no name", `{"description":"d","steps":[{"tool":"t"}]}`, "'name'"},
		{"no description", `{"name":"x","steps":[{"tool":"t"}]}`, "'description'"},
		{"no steps", `{"name":"x","description":"d"}`, "'steps'"},
		{"name with capitals", `{"name":"Bad","description":"d","steps":[{"tool":"t"}]}`, "/name"},
		{"name starting with a dot", `{"name":".x","description":"d","steps":[{"tool":"t"}]}`, "/name"},
		{"name over 100 characters", `{"name":"` + strings.Repeat("a", 101) + `","description":"d","steps":[{"tool":"t"}]}`, "/name"},
		{"empty description", `{"name":"x","description":"","steps":[{"tool":"t"}]}`, "/description"},
		{"no step", `{"name":"x","description":"d","steps":[]}`, "/steps"},
		{"steps not a list", `{"name":"x","description":"d","steps":{"tool":"t"}}`, "/steps"},
		{"unknown mode", `{"name":"x","description":"d","mode":"staging","steps":[{"tool":"t"}]}`, "/mode"},
		{"plan with capitals", `{"name":"x","description":"d","plan":"Team","steps":[{"tool":"t"}]}`, "/plan"},
		{"empty plan", `{"name":"x","description":"d","plan":"","steps":[{"tool":"t"}]}`, "/plan"},
		{"toolsets empty", `{"name":"x","description":"d","toolsets":[],"steps":[{"tool":"t"}]}`, "/toolsets"},
		{"toolsets a string", `{"name":"x","description":"d","toolsets":"contacts","steps":[{"tool":"t"}]}`, "/toolsets"},
		{"toolset not a string", `{"name":"x","description":"d","toolsets":[1],"steps":[{"tool":"t"}]}`, "/toolsets/0"},
		{"toolsets comma-joined", `{"name":"x","description":"d","toolsets":["contacts,deals"],"steps":[{"tool":"t"}]}`, "/toolsets/0"},
		{"toolset repeated", `{"name":"x","description":"d","toolsets":["deals","deals"],"steps":[{"tool":"t"}]}`, "/toolsets"},
		{"read_only a string", `{"name":"x","description":"d","read_only":"yes","steps":[{"tool":"t"}]}`, "/read_only"},
		{"setup not a list", `{"name":"x","description":"d","setup":{},"steps":[{"tool":"t"}]}`, "/setup"},
		{"final_state step not an object", `{"name":"x","description":"d","steps":[{"tool":"t"}],"final_state":["get_deal"]}`, "/final_state/0"},

		// a step
		{"step without a tool", wrap(`{"arguments":{}}`), "/steps/0"},
		{"empty tool", wrap(`{"tool":""}`), "/steps/0/tool"},
		{"unknown step key", wrap(`{"tool":"t","args":{}}`), "/steps/0"},
		{"note not a string", wrap(`{"tool":"t","note":1}`), "/steps/0/note"},
		{"within_ms zero", wrap(`{"tool":"t","within_ms":0}`), "/steps/0/within_ms"},
		{"within_ms over a minute", wrap(`{"tool":"t","within_ms":60001}`), "/steps/0/within_ms"},
		{"within_ms a fraction", wrap(`{"tool":"t","within_ms":1.5}`), "/steps/0/within_ms"},

		// arguments
		{"arguments a list", wrap(`{"tool":"t","arguments":[1]}`), "/steps/0/arguments"},
		{"matcher in arguments", wrap(`{"tool":"t","arguments":{"id":{"$match":"id"}}}`), "belong in expectations"},
		{"matcher deep in arguments", wrap(`{"tool":"t","arguments":{"a":[{"b":{"$match":"any"}}]}}`), "/steps/0/arguments/a/0/b"},
		{"$ref to a bad name", wrap(`{"tool":"t","arguments":{"id":{"$ref":"1x"}}}`), "/steps/0/arguments/id/$ref"},
		{"$ref not a string", wrap(`{"tool":"t","arguments":{"id":{"$ref":1}}}`), "/steps/0/arguments/id/$ref"},
		{"$ref with another key", wrap(`{"tool":"t","arguments":{"id":{"$ref":"a","x":1}}}`), "/steps/0/arguments/id"},
		{"$literal with another key", wrap(`{"tool":"t","arguments":{"id":{"$literal":1,"x":1}}}`), "/steps/0/arguments/id"},

		// captures
		{"capture name with a dash", wrap(`{"tool":"t","capture":{"a-b":"/id"}}`), `/steps/0/capture, key "a-b"`},
		{"capture name starting with a digit", wrap(`{"tool":"t","capture":{"1a":"/id"}}`), `/steps/0/capture, key "1a"`},
		{"capture path without a slash", wrap(`{"tool":"t","capture":{"id":"data/0"}}`), "/steps/0/capture/id"},
		{"capture path not a string", wrap(`{"tool":"t","capture":{"id":1}}`), "/steps/0/capture/id"},
		{"capture a list", wrap(`{"tool":"t","capture":["/id"]}`), "/steps/0/capture"},

		// expectations
		{"expect not an object", wrap(`{"tool":"t","expect":"ok"}`), "/steps/0/expect"},
		{"unknown expect key", wrap(`{"tool":"t","expect":{"results":{}}}`), "/steps/0/expect"},
		{"result and error", wrap(`{"tool":"t","expect":{"result":{},"error":"x"}}`), "/steps/0/expect"},
		{"error and protocol_error", wrap(`{"tool":"t","expect":{"error":"x","protocol_error":""}}`), "/steps/0/expect"},
		{"error code with capitals", wrap(`{"tool":"t","expect":{"error":"Not_Found"}}`), "/steps/0/expect/error"},
		{"error a number", wrap(`{"tool":"t","expect":{"error":404}}`), "/steps/0/expect/error"},
		{"error a list", wrap(`{"tool":"t","expect":{"error":["not_found"]}}`), "/steps/0/expect/error"},
		{"bad matcher in the error", wrap(`{"tool":"t","expect":{"error":{"code":{"$match":"uuid"}}}}`), "/steps/0/expect/error"},
		{"protocol_error not a string", wrap(`{"tool":"t","expect":{"protocol_error":true}}`), "/steps/0/expect/protocol_error"},
		{"$ref with another key in a result", wrap(`{"tool":"t","expect":{"result":{"a":{"$ref":"x","y":1}}}}`), "/steps/0/expect/result/a"},

		// matchers
		{"unknown matcher", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"uuid"}}}}`), "/steps/0/expect/result/a/$match"},
		{"matcher kind not a string", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":1}}}}`), "/steps/0/expect/result/a/$match"},
		{"matcher in a list", wrap(`{"tool":"t","expect":{"result":[{"$match":"uuid"}]}}`), "/steps/0/expect/result/0/$match"},
		{"any with a key", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"any","prefix":"con_"}}}}`), "/steps/0/expect/result/a"},
		{"absent with a key", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"absent","x":1}}}}`), "/steps/0/expect/result/a"},
		{"string with min", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"string","min":1}}}}`), "/steps/0/expect/result/a"},
		{"string pattern not a string", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"string","pattern":1}}}}`), "/steps/0/expect/result/a/pattern"},
		{"string contains not a string", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"string","contains":[]}}}}`), "/steps/0/expect/result/a/contains"},
		{"number min a string", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"number","min":"1"}}}}`), "/steps/0/expect/result/a/min"},
		{"number max a string", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"number","max":"9"}}}}`), "/steps/0/expect/result/a/max"},
		{"number with len", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"number","len":1}}}}`), "/steps/0/expect/result/a"},
		{"id prefix without underscore", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"id","prefix":"con"}}}}`), "/steps/0/expect/result/a/prefix"},
		{"id with pattern", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"id","pattern":"^con_"}}}}`), "/steps/0/expect/result/a"},
		{"timestamp with a key", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"timestamp","format":"x"}}}}`), "/steps/0/expect/result/a"},
		{"date with a key", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"date","min":"2026-01-01"}}}}`), "/steps/0/expect/result/a"},
		{"array len negative", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"array","len":-1}}}}`), "/steps/0/expect/result/a/len"},
		{"array len a fraction", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"array","len":1.5}}}}`), "/steps/0/expect/result/a/len"},
		{"array min_len negative", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"array","min_len":-1}}}}`), "/steps/0/expect/result/a/min_len"},
		{"array max_len a string", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"array","max_len":"2"}}}}`), "/steps/0/expect/result/a/max_len"},
		{"array with prefix", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"array","prefix":"con_"}}}}`), "/steps/0/expect/result/a"},
		{"bad matcher in array contains", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"array","contains":{"$match":"uuid"}}}}}`), "/steps/0/expect/result/a/contains/$match"},
		{"bad matcher in array each", wrap(`{"tool":"t","expect":{"result":{"a":{"$match":"array","each":{"b":{"$match":"uuid"}}}}}}`), "/steps/0/expect/result/a/each/b/$match"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("t.json", []byte(c.doc))
			if err == nil {
				t.Fatalf("%s: loaded; the schema should reject it", c.doc)
			}
			if msg := err.Error(); !strings.Contains(msg, "does not match the transcript schema") || !strings.Contains(msg, c.at) {
				t.Errorf("%s:\ngot  %v\nwant a schema error mentioning %q", c.doc, err, c.at)
			}
		})
	}
}

// TestSchemaAccepts lists forms the transcript schema must keep accepting, beyond the suite.
func TestSchemaAccepts(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{
		`{"$schema":"../transcript.schema.json","name":"a.b-c_1","description":"d","mode":"live","plan":"team","toolsets":["contacts","deals"],"read_only":true,
		  "setup":[{"tool":"create_contact","arguments":{"email":"a@b.c"},"capture":{"ada_id":"/id","Any_9":"","n":"/data[email=a@b.c]/id"}}],
		  "steps":[{"note":"n","tool":"get_contact","arguments":{"id":{"$ref":"ada_id"},"m":{"$literal":{"$match":"id"}},"l":[1,"{{ada_id}}",null,true,{"x":{"$ref":"n"}}]},"within_ms":60000,"expect":{}}],
		  "final_state":[{"tool":"get_contact","expect":{"result":{"id":"{{ada_id}}","a":{"$ref":"ada_id"},"b":{"$literal":{"$ref":"x","y":1}},"c":[{"$match":"any"}],
		    "d":{"$match":"absent"},"e":{"$match":"string","pattern":"^a","contains":"{{n}}"},"f":{"$match":"number","min":-1.5,"max":10},"g":{"$match":"id","prefix":"con_"},
		    "h":{"$match":"id"},"i":{"$match":"timestamp"},"j":{"$match":"date"},"k":{"$match":"array","len":0,"min_len":0,"max_len":3,"contains":[{"a":1},{"$match":"id"}],"each":{"$match":"string"}},
		    "l":{"$match":"array","contains":{"$match":"number"}},"m":null,"n":1.5,"o":false}}}]}`,
		wrap(`{"tool":"t","expect":{"error":"not_found"}}`),
		wrap(`{"tool":"t","expect":{"error":{"code":"already_exists","existing_id":{"$match":"id","prefix":"con_"},"details":[{"param":"x"}]}}}`),
		wrap(`{"tool":"t","expect":{"protocol_error":""}}`),
		wrap(`{"tool":"t","expect":{"result":"text"}}`),
		wrap(`{"tool":"t","arguments":{}}`),
	} {
		if _, err := Parse("t.json", []byte(doc)); err != nil {
			t.Errorf("%s:\n%v", doc, err)
		}
	}
}

// TestMatcherKinds: every $match kind the schema allows is one the runner knows.
func TestMatcherKinds(t *testing.T) {
	t.Parallel()
	for _, k := range matcherKinds {
		m := &matcher{kind: k.kind}
		if mm := m.match(nil, ""); mm != nil && strings.HasPrefix(mm.Message, "unknown matcher") {
			t.Errorf("the schema allows $match %q, which the runner does not know", k.kind)
		}
	}
}
