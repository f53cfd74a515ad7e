package tools

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/relmcrm/relm/store"
	"github.com/relmcrm/relm/store/filter"
)

// WorkspaceSchema describes the data model of the caller's workspace and mode in one
// document: every kind of record with its fields and custom fields, and the pipelines.
type WorkspaceSchema struct {
	Object    string           `json:"object" enum:"schema" doc:"Always \"schema\"."`
	Mode      string           `json:"mode" enum:"live,test" doc:"The mode described, that of the calling key."`
	Objects   []SchemaObject   `json:"objects" doc:"Each kind of record (contact, company, deal, activity)."`
	Pipelines []SchemaPipeline `json:"pipelines" doc:"The deal pipelines in order, each with its stages in order. A deal's pipeline and stage are their keys."`
}

// SchemaObject is one kind of record.
type SchemaObject struct {
	ObjectType   RecordKind    `json:"object_type"`
	IDPrefix     string        `json:"id_prefix" doc:"How its ids start, e.g. con_."`
	Fields       []SchemaField `json:"fields" doc:"Its built-in fields, as get_* tools return them."`
	CustomFields []CustomField `json:"custom_fields" doc:"Typed keys of its metadata, as list_custom_fields returns them. Other metadata keys are free-form."`
}

// SchemaField is a built-in field of a kind of record.
type SchemaField struct {
	Name        string   `json:"name"`
	Type        string   `json:"type" enum:"id,text,integer,date,timestamp,enum,bool,object" doc:"id (a record id), text, integer, date (YYYY-MM-DD), timestamp (RFC 3339), enum (one of values), bool, object (metadata)."`
	Nullable    bool     `json:"nullable" doc:"Whether the value may be null."`
	Values      []string `json:"values" doc:"For enum fields: the allowed values; empty otherwise."`
	FilterOps   []string `json:"filter_ops" doc:"The ops list_* filters take on it (filter[name][op]); empty when it cannot be filtered on. Metadata is filtered key by key: metadata->>KEY."`
	Description *string  `json:"description"`
}

// SchemaPipeline is a deal pipeline with its stages.
type SchemaPipeline struct {
	Key       string        `json:"key"`
	Label     string        `json:"label"`
	Position  int           `json:"position" doc:"Place in the order of pipelines, from 0."`
	IsDefault bool          `json:"is_default" doc:"Whether deals created without a pipeline go here."`
	Stages    []SchemaStage `json:"stages" doc:"In order; a new deal starts in the first."`
}

// SchemaStage is a stage of a pipeline.
type SchemaStage struct {
	Key      string `json:"key"`
	Label    string `json:"label"`
	Position int    `json:"position" doc:"Place in the pipeline, from 0."`
	IsWon    bool   `json:"is_won" doc:"Deals here are won."`
	IsLost   bool   `json:"is_lost" doc:"Deals here are lost."`
}

// schemaObjects are the kinds of record the schema describes, by their output type.
var schemaObjects = []struct {
	kind, prefix string
	out          reflect.Type
	filters      filter.Spec
}{
	{"contact", store.Contacts.Prefix, reflect.TypeFor[Contact](), store.Contacts.Filters},
	{"company", store.Companies.Prefix, reflect.TypeFor[Company](), store.Companies.Filters},
	{"deal", store.Deals.Prefix, reflect.TypeFor[Deal](), store.Deals.Filters},
	{"activity", store.Activities.Prefix, reflect.TypeFor[Activity](), store.Activities.Filters},
}

func schemaTool(s *store.Store) Tool {
	return &Capability[NoInput, WorkspaceSchema]{Info: Info{
		Name: "get_schema", Title: "Get workspace schema", Toolset: "schema",
		Description: "Learn the workspace's data model in one call: for contacts, companies, deals and activities their " +
			"fields (type, nullability, filter ops) and custom fields (typed metadata keys with options), plus the deal " +
			"pipelines and their stages in order. Also readable as the MCP resource relm://schema. Returns the schema.",
		Annotations: Annotations{ReadOnly: true, Idempotent: true},
		REST:        &Route{Method: http.MethodGet, Path: "/v1/schema", Status: http.StatusOK},
	}, Handle: func(ctx context.Context, _ NoInput) (WorkspaceSchema, error) {
		return describeSchema(ctx, s)
	}}
}

func describeSchema(ctx context.Context, s *store.Store) (WorkspaceSchema, error) {
	t, err := callerOf(ctx)
	if err != nil {
		return WorkspaceSchema{}, err
	}
	out := WorkspaceSchema{Object: "schema", Mode: string(t.Mode), Pipelines: []SchemaPipeline{}}
	err = inTx(ctx, s, func(tx *store.Tx) error {
		fields, err := store.ListCustomFields(ctx, tx, "")
		if err != nil {
			return err
		}
		for _, o := range schemaObjects {
			obj := SchemaObject{ObjectType: RecordKind(o.kind), IDPrefix: o.prefix, Fields: builtinFields(o.out, o.filters), CustomFields: []CustomField{}}
			for _, f := range fields {
				if f.ObjectType == o.kind {
					obj.CustomFields = append(obj.CustomFields, customFieldOut(f))
				}
			}
			out.Objects = append(out.Objects, obj)
		}
		pipelines, err := store.SchemaPipelines(ctx, tx)
		for _, p := range pipelines {
			sp := SchemaPipeline{Key: p.Key, Label: p.Label, Position: p.Position, IsDefault: p.IsDefault, Stages: []SchemaStage{}}
			for _, st := range p.Stages {
				sp.Stages = append(sp.Stages, SchemaStage{Key: st.Key, Label: st.Label, Position: st.Position, IsWon: st.IsWon, IsLost: st.IsLost})
			}
			out.Pipelines = append(out.Pipelines, sp)
		}
		return err
	})
	return out, err
}

// builtinFields describes the fields of a record's output type from its struct tags (the
// same tags its JSON Schema is generated from) and its filter spec.
func builtinFields(t reflect.Type, spec filter.Spec) []SchemaField {
	var out []SchemaField
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" || name == "object" {
			continue
		}
		f := SchemaField{Name: name, Type: fieldType(name, sf), Nullable: sf.Type.Kind() == reflect.Pointer,
			Values: []string{}, FilterOps: []string{}}
		if enum := sf.Tag.Get("enum"); enum != "" {
			f.Values = strings.Split(enum, ",")
		}
		if doc := sf.Tag.Get("doc"); doc != "" {
			f.Description = &doc
		}
		for _, sfield := range spec.Fields {
			if sfield.Name == name {
				for _, op := range sfield.Kind.Ops() {
					f.FilterOps = append(f.FilterOps, string(op))
				}
			}
		}
		out = append(out, f)
	}
	return out
}

// fieldType names the type of one output field.
func fieldType(name string, sf reflect.StructField) string {
	t := sf.Type
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case name == "id" || strings.HasSuffix(name, "_id"):
		return "id"
	case sf.Tag.Get("enum") != "":
		return "enum"
	case sf.Tag.Get("format") == "date":
		return "date"
	case t == reflect.TypeFor[time.Time]():
		return "timestamp"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "integer"
	case reflect.Bool:
		return "bool"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return "text"
}
