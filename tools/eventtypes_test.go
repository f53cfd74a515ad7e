package tools

import (
	"slices"
	"testing"
)

// TestEventTypesAreOneList: the event types named outside EventTypes (the extra data of
// automation conditions) are in it, and an event of another type cannot be built.
func TestEventTypesAreOneList(t *testing.T) {
	for typ := range eventDataFields {
		if !slices.Contains(EventTypes, typ) {
			t.Errorf("eventDataFields names %s, which is not in EventTypes", typ)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an event of an unknown type was built")
		}
	}()
	event("contact.renamed", nil, nil)
}
