package tools

import (
	"reflect"
	"strconv"

	"github.com/relmcrm/relm/store"
)

// Precondition makes a change of a record conditional on its version (optimistic
// concurrency): the update and delete tools embed it.
type Precondition struct {
	ExpectedVersion *int64 `json:"expected_version,omitempty" minimum:"1" doc:"Optional: the record's version as you last read it. If it has changed since, nothing changes and the call fails with precondition_failed: re-read and retry. REST: If-Match."`
}

// ExpectedVersionArg is the argument of Precondition; REST's If-Match header fills it.
const ExpectedVersionArg = "expected_version"

// preconditionHint tells a model, in a write tool's description, how to avoid overwriting
// a change it has not seen.
const preconditionHint = " Pass expected_version to act only if the record is unchanged since you read it."

// Versioned is a record result: its version is the REST ETag.
type Versioned interface{ CurrentVersion() int64 }

// ReturnsRecord reports whether the capability's result is one record (Versioned).
func (e *Entry) ReturnsRecord() bool {
	_, out := e.tool.types()
	return out.Implements(reflect.TypeFor[Versioned]())
}

// ETag is the entity tag of version v, as the ETag header carries it and If-Match compares it.
func ETag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

// versionedRow is a store row that carries a record's version.
type versionedRow interface{ Common() store.Record }

// checkPrecondition refuses a change of the record cur (locked by the caller's
// transaction) when its version is not the expected one; nil when none is expected.
func checkPrecondition(kind string, cur any, p Precondition) error {
	row, ok := cur.(versionedRow)
	if p.ExpectedVersion == nil || !ok {
		return nil
	}
	rec := row.Common()
	if rec.Version == *p.ExpectedVersion {
		return nil
	}
	return PreconditionFailed(kind, rec, *p.ExpectedVersion)
}

// PreconditionFailed says that the record rec of kind is no longer at version expected:
// its current version, and the fields changed since expected.
func PreconditionFailed(kind string, rec store.Record, expected int64) *Error {
	n := nameOf(kind)
	e := NewError(CodePreconditionFailed, "The %s %s is at version %d, not %d: it changed since you read it. Nothing was changed. "+
		"Get the %s again, check whether your change still applies, and retry with expected_version %d (If-Match: \"%d\" on REST).",
		n.one, rec.ID, rec.Version, expected, n.one, rec.Version, rec.Version)
	e.Param, e.CurrentVersion = "expected_version", rec.Version
	if expected < rec.Version {
		e.ChangedFields = rec.ChangedSince(expected)
	}
	return e
}
