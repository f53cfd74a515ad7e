package rest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/relmcrm/relm/tools"
)

// IfMatchHeader makes a change of a record conditional on its version: the REST form of
// the expected_version argument (docs/api.md, "Optimistic concurrency").
const IfMatchHeader = "If-Match"

// ETagHeader carries the version of the record a response holds, as an entity tag.
const ETagHeader = "ETag"

// expectedVersion is the input field that If-Match fills.
const expectedVersion = tools.ExpectedVersionArg

// strongTag is an entity tag Relm issues: a record's version, quoted.
var strongTag = regexp.MustCompile(`^"([1-9][0-9]{0,18})"$`)

// ifMatchParam documents If-Match on operations that change one record.
func ifMatchParam() *huma.Param {
	return &huma.Param{
		Name: IfMatchHeader,
		In:   "header",
		Description: "The record's ETag as you last read it, such as \"3\" (quotes included), or * for any version. The change " +
			"is made only if the record is still at that version; otherwise nothing changes and the answer is 412 " +
			"precondition_failed with current_version and changed_fields. Same as expected_version; giving both with " +
			"different versions is 400.",
		Schema: &huma.Schema{Type: "string"},
	}
}

// etagHeader documents the ETag of responses holding one record.
func etagHeader() *huma.Param {
	return &huma.Param{Description: "The record's version as a strong entity tag (\"3\"); send it back as If-Match to change the record only if nobody has meanwhile.",
		Schema: &huma.Schema{Type: "string"}}
}

// ifMatch moves an If-Match header into args as expected_version; * asks for no version.
// A route whose capability takes no expected_version refuses the header, rather than
// ignoring a condition the caller relies on.
func (rt *route) ifMatch(hctx huma.Context, args map[string]any) *tools.Error {
	var tags []string
	hctx.EachHeader(func(name, value string) {
		if http.CanonicalHeaderKey(name) == IfMatchHeader {
			tags = append(tags, value)
		}
	})
	if len(tags) == 0 {
		return nil
	}
	if !rt.preconditioned {
		return ifMatchError("is not taken by %s %s: only the changes of one contact, company, deal or activity are conditional. "+
			"Send the request without it", rt.binding.Method, rt.binding.Path)
	}
	tag := strings.TrimSpace(tags[0])
	switch {
	case len(tags) > 1 || strings.Contains(tag, ","):
		return ifMatchError("gives several entity tags; give the one ETag you last read, such as \"3\", or *")
	case tag == "*":
		return nil
	case strings.HasPrefix(tag, "W/"):
		return ifMatchError("holds a weak entity tag, which never matches; send the ETag as Relm sent it, such as \"3\"")
	}
	m := strongTag.FindStringSubmatch(tag)
	if m == nil {
		return ifMatchError("must be an ETag Relm sent, a version in double quotes such as \"3\", or *; got %s", strconv.Quote(tag))
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return ifMatchError("holds a version that is too large; got %s", tag)
	}
	if given, ok := args[expectedVersion]; ok && numberText(given) != m[1] {
		e := tools.NewError(tools.CodeBadRequest, "If-Match (%s) and expected_version (%v) name different versions; give one of them.", tag, given)
		e.Param = expectedVersion
		return e
	}
	args[expectedVersion] = v
	return nil
}

// numberText spells a decoded JSON or query number as its digits.
func numberText(v any) string {
	switch n := v.(type) {
	case json.Number:
		return n.String()
	case int64:
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprint(v)
}

func ifMatchError(format string, args ...any) *tools.Error {
	e := tools.NewError(tools.CodeBadRequest, "The "+IfMatchHeader+" header "+format+".", args...)
	e.Param = IfMatchHeader
	return e
}

// setETag sets the ETag of a response holding one record.
func setETag(hctx huma.Context, out any) {
	if v, ok := out.(tools.Versioned); ok {
		hctx.SetHeader(ETagHeader, tools.ETag(v.CurrentVersion()))
	}
}
