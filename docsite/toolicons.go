package docsite

import (
	"fmt"
	"net/http"
)

// toolsetGlyphs are the line drawings (SVG path data on a 24×24 grid) of the toolsets'
// icons, which MCP clients show beside tools (protocol 2025-11-25). A toolset without one
// uses Relm's icon.
var toolsetGlyphs = map[string]string{
	"contacts":     "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0",
	"companies":    "M4 21V5l8-2v18M12 8h8v13M7 8h2M7 12h2M7 16h2M15 12h2M15 16h2M2 21h20",
	"deals":        "M20 12l-8 8-9-9V3h8zM7.5 7.5h.01",
	"activities":   "M4 5h16v16H4zM4 9h16M8 3v4M16 3v4M8 14l2.5 2.5L16 12",
	"pipelines":    "M3 4h5v16H3zM10 4h5v10h-5zM17 4h4v6h-4z",
	"search":       "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM16 16l5 5",
	"schema":       "M3 4h18v16H3zM3 10h18M9 10v10",
	"associations": "M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1",
	"events":       "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 7v5l3 3",
	"webhooks":     "M9 17a4 4 0 1 1-2-7.5L10 4M15 17H9M15 17a4 4 0 1 0 2.5-7.1L14 4",
	"email":        "M3 5h18v14H3zM3 6l9 7 9-7",
	"automations":  "M13 2L4 14h7l-1 8 9-12h-7z",
	"api_keys":     "M8 15a4 4 0 1 1 3.5-6H21v4h-2v3h-3v-3h-4.5A4 4 0 0 1 8 15z",
	"usage":        "M4 20V10M10 20V4M16 20v-7M22 20H2",
	"sandboxes":    "M3 7l9-4 9 4v10l-9 4-9-4zM3 7l9 4 9-4M12 11v10",
}

// ToolIconPath is where a Site serves the icon of toolset: its own drawing, or Relm's icon.
func ToolIconPath(toolset string) string {
	if _, ok := toolsetGlyphs[toolset]; ok {
		return "/icons/" + toolset + ".svg"
	}
	return IconPath
}

// toolsetIcon is the SVG of a toolset's drawing: Relm's blue square with the glyph in white.
func toolsetIcon(glyph string) []byte {
	return fmt.Appendf(nil, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect width="24" height="24" rx="5" fill="#1f4fd8"/>`+
		`<g transform="translate(3 3) scale(.75)" fill="none" stroke="#fff" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">`+
		`<path d="%s"/></g></svg>`, glyph)
}

// registerToolIcons serves each toolset's icon.
func registerToolIcons(mux *http.ServeMux) {
	for t, glyph := range toolsetGlyphs {
		body := toolsetIcon(glyph)
		mux.HandleFunc("GET "+ToolIconPath(t), func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "image/svg+xml")
			w.Header().Set("Cache-Control", "public, max-age=86400")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			_, _ = w.Write(body)
		})
	}
}
