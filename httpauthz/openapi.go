package httpauthz

import (
	_ "embed"
	"net/http"
	"strings"
)

//go:embed openapi.json
var openAPIDocument string

// OpenAPI returns the API's OpenAPI 3.1 document, its server URL the
// API's prefix.
func (a *API) OpenAPI() []byte {
	return []byte(strings.Replace(openAPIDocument, `"url": "/"`, `"url": "`+a.serverURL()+`"`, 1))
}

func (a *API) serverURL() string {
	if a.prefix == "" {
		return "/"
	}
	return a.prefix
}

func (a *API) serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(a.OpenAPI())
}
