package rest

import (
	"slices"
	"strconv"
	"strings"

	"github.com/relmcrm/relm/tools"
)

// aliasOperationID names the operation of a capability's alias: <tool>_alias, then
// <tool>_alias_2 and so on.
func aliasOperationID(tool string, i int) string {
	if i == 0 {
		return tool + "_alias"
	}
	return tool + "_alias_" + strconv.Itoa(i+1)
}

// aliasHidden lists the path parameters of the canonical path that an alias with the
// given path parameters leaves out.
func aliasHidden(canonical string, aliasParams []string) []string {
	var hidden []string
	for _, m := range pathParam.FindAllStringSubmatch(canonical, -1) {
		if !slices.Contains(aliasParams, m[1]) {
			hidden = append(hidden, m[1])
		}
	}
	return hidden
}

// aliasDescription introduces an alias's operation: which route it stands for and what it
// leaves to the default.
func aliasDescription(e *tools.Entry, hidden []string) string {
	d := "Alias of " + e.REST.Method + " " + e.REST.Path + " (" + e.Name + ")"
	if len(hidden) > 0 {
		d += " with " + strings.Join(hidden, ", ") + " left to its default"
	}
	return d + ". "
}
