package httpauthz_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/content"
	liberrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/httpauthz"
	"github.com/orgauthz/orgauthz/store/memstore"
)

// checkResponse validates a response of the management API, and the
// request that caused it, against the API's OpenAPI document: the response's
// status, content type and body, and the request's path, query and body.
// Each disagreement is reported with t.Errorf, in the validator's words.
//
// The document is the one the API serves with Prefix "/api" (its server URL
// "/api"), built once per test binary. The request's path may be either
// under that prefix ("/api/orgs/acme") or at the root ("/orgs/acme"): the
// validator strips the server's base path where the path starts with it,
// and matches the path as it is otherwise, so APIs mounted with Prefix ""
// and with Prefix "/api" are both checked. Other prefixes are not.
//
// What is checked:
//
//   - The request, unless the API answered 400 or 413: those are the
//     API's own "this request is malformed" answers, to requests a test may
//     have made wrong on purpose (an unknown field, a limit that is not a
//     number, a body over the limit). Security requirements are not checked,
//     since the host chooses how sessions are presented. A request with a
//     body must still be able to give it: either its GetBody is set (as
//     http.NewRequest sets it for *bytes.Reader, *bytes.Buffer and
//     *strings.Reader bodies) or its Body has not been read (it is then
//     read, and replaced by an equal one). req is not otherwise changed.
//   - The response, always, with body as its body (resp.Body is not read):
//     its status must be one the operation lists, its content type one the
//     status lists, and its body must match that media type's schema (a
//     JSON Lines body, the audit export's, as the array of its lines).
//   - An exchange on a path or method the document does not describe must
//     be the API's "no route" answer: a 404 problem (application/problem+json
//     matching the Problem schema).
func checkResponse(t testing.TB, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	dc, err := oaChecker()
	if err != nil {
		t.Fatalf("openapi: building the validator: %v", err)
	}
	for _, msg := range dc.check(req, resp, body) {
		t.Errorf("openapi: %s %s → %d: %s", req.Method, req.URL.Path, resp.StatusCode, msg)
	}
}

// oaDocChecker validates exchanges against the OpenAPI document.
type oaDocChecker struct {
	mu      sync.Mutex // the validator's caches are not documented as safe for concurrent use
	v       validator.Validator
	problem *base.Schema
	schemas schema_validation.SchemaValidator
}

// oaChecker builds the checker, once per test binary, from the
// document a NewAPI with Prefix "/api" serves.
var oaChecker = sync.OnceValues(func() (*oaDocChecker, error) {
	doc, err := oaServedDocument("/api")
	if err != nil {
		return nil, err
	}
	return oaNewDocChecker(doc)
})

// oaServedDocument returns the OpenAPI document an API mounted under prefix
// serves.
func oaServedDocument(prefix string) ([]byte, error) {
	svc, err := orgauthz.New(memstore.New(), orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}})
	if err != nil {
		return nil, err
	}
	g, err := httpauthz.New(httpauthz.Options{Service: svc})
	if err != nil {
		return nil, err
	}
	api, err := httpauthz.NewAPI(httpauthz.APIOptions{Guard: g, Prefix: prefix})
	if err != nil {
		return nil, err
	}
	return api.OpenAPI(), nil
}

func oaNewDocChecker(spec []byte) (*oaDocChecker, error) {
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("parsing the document: %w", err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("building the document's model: %w", err)
	}
	problem := model.Model.Components.Schemas.GetOrZero("Problem")
	if problem == nil {
		return nil, fmt.Errorf("the document has no Problem schema")
	}
	opts := []config.Option{
		config.WithoutSecurityValidation(),
		config.WithFormatAssertions(),
		config.WithBodyDecoder("application/jsonl", content.DecoderFunc(oaDecodeJSONLines)),
	}
	return &oaDocChecker{
		v:       validator.NewValidatorFromV3Model(&model.Model, opts...),
		problem: problem.Schema(),
		schemas: schema_validation.NewSchemaValidator(opts...),
	}, nil
}

// check validates one exchange and returns what is wrong with it.
func (dc *oaDocChecker) check(req *http.Request, resp *http.Response, body []byte) []string {
	dc.mu.Lock()
	defer dc.mu.Unlock()
	var out []string
	r, err := oaReplayable(req)
	if err != nil {
		return []string{err.Error()}
	}
	rs := *resp
	rs.Body = io.NopCloser(bytes.NewReader(body))
	rs.ContentLength = int64(len(body))
	rs.Request = r
	ok, errs := dc.v.ValidateHttpResponse(r, &rs)
	if !ok && oaOutsideDocument(errs) {
		return dc.checkNoRoute(resp, body)
	}
	for _, e := range errs {
		out = append(out, "response: "+e.Error())
	}
	if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusRequestEntityTooLarge {
		r, err := oaReplayable(req)
		if err != nil {
			return append(out, err.Error())
		}
		_, errs := dc.v.ValidateHttpRequestSync(r)
		for _, e := range errs {
			out = append(out, "request: "+e.Error())
		}
	}
	return out
}

// oaOutsideDocument reports whether errs say the request's path or method is
// not in the document.
func oaOutsideDocument(errs []*liberrors.ValidationError) bool {
	for _, e := range errs {
		if e.IsPathMissingError() || e.IsOperationMissingError() {
			return true
		}
	}
	return false
}

// checkNoRoute checks the API's answer to a request the document does not
// describe: a 404 problem.
func (dc *oaDocChecker) checkNoRoute(resp *http.Response, body []byte) []string {
	var out []string
	if resp.StatusCode != http.StatusNotFound {
		out = append(out, fmt.Sprintf("the document has no such operation, and the answer is %d, not the API's 404 for no route", resp.StatusCode))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/problem+json" {
		out = append(out, fmt.Sprintf("the document has no such operation, and the answer's content type is %q, not application/problem+json", resp.Header.Get("Content-Type")))
		return out
	}
	_, errs := dc.schemas.ValidateSchemaBytes(dc.problem, body)
	for _, e := range errs {
		out = append(out, "no-route problem: "+e.Error())
	}
	return out
}

// oaReplayable returns a copy of req whose body can be read from its start.
func oaReplayable(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	switch {
	case req.GetBody != nil:
		b, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("request: GetBody: %v", err)
		}
		r.Body = b
	case req.Body != nil && req.Body != http.NoBody:
		data, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, fmt.Errorf("request: reading the body: %v", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(data))
		r.Body = io.NopCloser(bytes.NewReader(data))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	}
	return r, nil
}

// oaDecodeJSONLines decodes a JSON Lines body (the audit export) as the
// array of its lines, which is how the document describes it: every line
// must be one JSON value.
func oaDecodeJSONLines(in *content.DecodeInput) (any, error) {
	out := []any{}
	if in == nil || in.Body == nil {
		return out, nil
	}
	sc := bufio.NewScanner(in.Body)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var v any
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("JSON Lines: line %d: %v", n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("JSON Lines: line %d holds more than one JSON value", n)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}
