package testkit

import "testing"

func TestDiff(t *testing.T) {
	want := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n"
	got := "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n"
	const diff = `--- want
+++ got
@@ -1 +1 @@
 a
-b
+B
 c
 d
 e
@@ -10 +10 @@
 j
 k
 l
+m
`
	if d := Diff("want", "got", []byte(want), []byte(got)); d != diff {
		t.Fatalf("got\n%s\nwant\n%s", d, diff)
	}
	if d := Diff("want", "got", []byte(want), []byte(want)); d != "" {
		t.Fatalf("equal inputs differ:\n%s", d)
	}
	if d := Diff("want", "got", nil, []byte("x\n")); d != "--- want\n+++ got\n@@ -1 +1 @@\n+x\n" {
		t.Fatalf("from nothing:\n%s", d)
	}
}
