package store

import (
	"fmt"
	"testing"

	"github.com/relmcrm/relm/auth"
)

func TestSchemaCache(t *testing.T) {
	t.Parallel()
	var c schemaCache
	k := tenantKey{workspace: "ws_a", mode: auth.Live}
	if c.get(k, 0) != nil {
		t.Fatal("an empty cache has an entry")
	}
	v2 := &tenantSchemas{version: 2}
	c.put(k, v2)
	if c.get(k, 2) != v2 || c.get(k, 1) != nil || c.get(k, 3) != nil {
		t.Fatal("an entry answers only for its version")
	}
	c.put(k, &tenantSchemas{version: 1}) // a slow loader of an older version
	if c.get(k, 2) != v2 {
		t.Fatal("an older version replaced a newer one")
	}
	if c.get(tenantKey{workspace: "ws_a", mode: auth.Test}, 2) != nil {
		t.Fatal("modes share entries")
	}
	for i := range maxCachedTenants + 10 {
		c.put(tenantKey{workspace: fmt.Sprint("ws_", i), mode: auth.Live}, &tenantSchemas{})
	}
	if n := len(c.tenants); n > maxCachedTenants {
		t.Fatalf("%d tenants cached, at most %d", n, maxCachedTenants)
	}
}
