package server_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestPagingWhileOthersWrite pages through contacts while other clients create and delete
// contacts: every contact that existed before paging began and was not deleted is seen
// exactly once, and nothing is seen twice.
func TestPagingWhileOthersWrite(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var stable []string
	doomed := map[string]bool{}
	for i := range 60 {
		id := e.create("contacts", e.Live, map[string]any{"email": fmt.Sprintf("page%d@example.com", i)})
		if i%3 == 0 {
			doomed[id] = true
		} else {
			stable = append(stable, id)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // keeps inserting
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			e.call("POST", "/v1/contacts", e.Live, map[string]any{"email": fmt.Sprintf("late%d@example.com", i)})
		}
	}()
	go func() { // deletes the doomed ones
		defer wg.Done()
		for id := range doomed {
			e.call("DELETE", "/v1/contacts/"+id, e.Live, nil)
		}
	}()
	seen := map[string]int{}
	cursor := ""
	for {
		page := e.call("GET", "/v1/contacts?limit=7&cursor="+cursor, e.Live, nil).must(t, http.StatusOK)
		for _, id := range ids(page) {
			seen[id]++
		}
		if page.Body["has_more"] != true {
			break
		}
		cursor = page.Body["next_cursor"].(string)
	}
	close(stop)
	wg.Wait()
	for id, n := range seen {
		if n > 1 {
			t.Fatalf("%s seen %d times", id, n)
		}
	}
	for _, id := range stable {
		if seen[id] != 1 {
			t.Fatalf("%s, created before paging and never deleted, was skipped", id)
		}
	}
}
