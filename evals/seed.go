package evals

import (
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"time"
)

// seed writes setup calls that recreate the records a session used but did not create
// (contacts, companies, deals, activities that existed before it), so that the transcript
// replays in an empty workspace. Each is rebuilt from the first time the session saw it,
// with the fields its create tool takes; a record seen only as a reference (a contact's
// company_id) becomes a placeholder. Records of a kind are created oldest first, so lists
// keep their order.
func (tr *transcriber) seed() []Step {
	var steps []Step
	for _, sd := range seedable {
		if tr.cat.Inputs[sd.tool] == nil {
			continue // the server has no such tool
		}
		type seed struct {
			t       *token
			args    map[string]any
			created time.Time
		}
		var seeds []seed
		for _, t := range tr.order {
			if t.kind != sd.kind || !t.preexisting || t.defCall < 0 {
				continue // only records the server showed to exist
			}
			s := seed{t: t}
			if snap := tr.snapshot(t); snap != nil {
				s.args = tr.seedArgs(sd.tool, snap)
				s.created, _ = time.Parse(time.RFC3339Nano, text(snap["created_at"]))
			} else if s.args = tr.placeholder(t); s.args == nil {
				continue
			}
			seeds = append(seeds, s)
		}
		sort.SliceStable(seeds, func(i, j int) bool { return seeds[i].created.Before(seeds[j].created) })
		for _, s := range seeds {
			s.t.capture, s.t.seeded = tr.name("existing_"+sd.kind), true
			steps = append(steps, Step{
				Note: "Recreate a " + sd.kind + " that existed before the recorded session",
				Tool: sd.tool, Arguments: s.args, Capture: map[string]string{s.t.capture: "/id"},
			})
		}
	}
	return steps
}

// snapshot is the first record with t's id in the session's results: preferably the
// record itself, else as an event recorded it.
func (tr *transcriber) snapshot(t *token) map[string]any {
	key := recordKey{t.kind, t.value}
	if r, ok := tr.records.direct[key]; ok {
		return r
	}
	return tr.records.inEvents[key]
}

// recordKey names a record in results: its object kind and id.
type recordKey struct{ kind, id string }

// recordIndex holds the first sighting of each record in a session's results, found in
// one pass over them: direct where a result holds the record itself, inEvents where only
// an event's data does.
type recordIndex struct {
	direct, inEvents map[recordKey]map[string]any
}

func indexRecords(calls []decoded) recordIndex {
	idx := recordIndex{direct: map[recordKey]map[string]any{}, inEvents: map[recordKey]map[string]any{}}
	for _, c := range calls {
		idx.add(c.result, false)
	}
	return idx
}

// add indexes the records in v, in the order of a depth-first walk (keys sorted).
func (idx recordIndex) add(v any, inEvent bool) {
	switch v := v.(type) {
	case map[string]any:
		id, _ := v["id"].(string)
		kind, _ := v["object"].(string)
		if id != "" && kind != "" {
			first := idx.direct
			if inEvent {
				first = idx.inEvents
			}
			if _, seen := first[recordKey{kind, id}]; !seen {
				first[recordKey{kind, id}] = v
			}
		}
		inEvent = inEvent || kind == "event"
		for _, k := range slices.Sorted(maps.Keys(v)) {
			idx.add(v[k], inEvent)
		}
	case []any:
		for _, e := range v {
			idx.add(e, inEvent)
		}
	}
}

// seedArgs are the arguments of tool that recreate a record: the fields it takes, with
// references to records seeded before it; other references are left out.
func (tr *transcriber) seedArgs(tool string, snap map[string]any) map[string]any {
	args := map[string]any{}
	for _, k := range tr.cat.Inputs[tool] {
		v, ok := snap[k]
		if !ok || v == nil || k == "id" {
			continue
		}
		if s, isString := v.(string); isString {
			if t, isToken := tr.tokens[s]; isToken {
				if !t.seeded {
					continue
				}
				v = "{{" + t.capture + "}}"
			}
		} else if m, isObject := v.(map[string]any); isObject && hasSpecialKey(m) {
			v = map[string]any{"$literal": m}
		}
		args[k] = v
	}
	return args
}

var rowError = regexp.MustCompile(`^/data/(\d+)/error/existing_id$`)

// placeholder are the arguments of a stand-in for a record the session saw only as a
// reference. A contact that an already_exists error revealed gets the email that collided.
func (tr *transcriber) placeholder(t *token) map[string]any {
	switch t.kind {
	case "company":
		return map[string]any{"name": "Existing company"}
	case "deal":
		return map[string]any{"title": "Existing deal"}
	case "contact":
		args := tr.calls[t.defCall].args
		if t.defPath == "/error/existing_id" {
			if email, ok := args["email"].(string); ok {
				return map[string]any{"email": email}
			}
		}
		if m := rowError.FindStringSubmatch(t.defPath); m != nil {
			n, _ := strconv.Atoi(m[1])
			if rows, ok := args["contacts"].([]any); ok && n < len(rows) {
				if row, ok := rows[n].(map[string]any); ok && row["email"] != nil {
					return map[string]any{"email": row["email"]}
				}
			}
		}
		return map[string]any{"first_name": "Existing"}
	}
	return nil
}
