package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	promconfig "github.com/prometheus/common/config"
	"gopkg.in/yaml.v3"
)

// httpClientSection decodes http_client through the file's strict decoder
// (the v2-style unmarshal callback keeps KnownFields and real line
// numbers), but holds back a validation error instead of aborting the
// whole decode, so it can be reported with the source and line it belongs to.
type httpClientSection struct {
	cfg promconfig.HTTPClientConfig
	err error
}

func (s *httpClientSection) UnmarshalYAML(unmarshal func(any) error) error {
	return holdValidationError(unmarshal(&s.cfg), &s.err)
}

// holdValidationError passes type errors (which carry lines) on to the
// decoder and keeps any other error in held.
func holdValidationError(err error, held *error) error {
	var typeErr *yaml.TypeError
	if errors.As(err, &typeErr) {
		return err
	}
	*held = err
	return nil
}

// httpClient checks a source's http_client against what its type st
// needs, and sets src.HTTPClient.
func (p *parser) httpClient(raw *rawSource, node *yaml.Node, scope string, st SourceType, src *Source) {
	s := section{name: "http_client", key: mappingKey(node, "http_client"), value: mappingValue(node, "http_client"), owner: node, scope: scope}
	if !st.HTTPClient {
		if raw.HTTPClient != nil {
			p.errorf(s.line(), scope, "http_client: does not apply to type %s; %s", st.Name, p.remedy(func(t SourceType) bool { return t.HTTPClient }))
		}
		return
	}
	src.HTTPClient = promconfig.DefaultHTTPClientConfig
	if raw.HTTPClient != nil {
		if p.errorWithin(s.value) {
			return // reported by the decode; what it left is no basis for more checks
		}
		if raw.HTTPClient.err != nil {
			p.sectionErrors(raw.HTTPClient.err, s)
			return
		}
		src.HTTPClient = raw.HTTPClient.cfg
		src.HTTPClient.SetDirectory(p.dir)
		p.checkFiles(s.value, scope, "http_client")
	}
	c := src.HTTPClient
	if st.Credentials != "" && c.BasicAuth == nil && c.Authorization == nil && c.OAuth2 == nil {
		p.errorf(s.line(), scope, "%s", st.Credentials)
	}
}

// errorWithin says whether the strict decode reported a problem at or under n.
func (p *parser) errorWithin(n *yaml.Node) bool {
	for _, bad := range p.errNodes {
		if contains(n, bad) {
			return true
		}
	}
	return false
}

// checkFiles makes sure every *_file (and header files) under node is
// readable now, so a typo fails at load rather than at the first poll.
// Only the path is ever reported, never what the file holds.
func (p *parser) checkFiles(node *yaml.Node, scope, path string) {
	node = resolve(node)
	if node == nil {
		return
	}
	switch node.Kind {
	case yaml.MappingNode:
		for _, pr := range mappingPairs(node) {
			key, value := pr.key.Value, resolve(pr.value)
			keyPath := path + "." + key
			switch {
			case strings.HasSuffix(key, "_file") && value.Kind == yaml.ScalarNode:
				p.checkFile(value, scope, keyPath)
			case key == "files" && value.Kind == yaml.SequenceNode:
				for j, item := range value.Content {
					p.checkFile(resolve(item), scope, keyPath+index(j))
				}
			default:
				p.checkFiles(value, scope, keyPath)
			}
		}
	case yaml.SequenceNode:
		for j, item := range node.Content {
			p.checkFiles(item, scope, path+index(j))
		}
	}
}

func (p *parser) checkFile(value *yaml.Node, scope, keyPath string) {
	// A file shared by several sources through an alias is reported once,
	// for the source that spells it out.
	if value.Value == "" || p.filesChecked[value] {
		return
	}
	p.filesChecked[value] = true
	name := promconfig.JoinDir(p.dir, value.Value)
	f, err := os.Open(name)
	if err == nil {
		_, err = f.Read(make([]byte, 1))
		f.Close()
		if errors.Is(err, io.EOF) {
			err = nil
		}
	}
	if err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		p.errorf(value.Line, scope, "%s: cannot read %q: %v", keyPath, name, err)
	}
}

// remedy says what to do about a key that does not apply to a source's
// type: remove it, or switch to a type it applies to.
func (p *parser) remedy(applies func(SourceType) bool) string {
	var names []string
	for _, name := range p.types.SourceTypeNames() {
		if t, ok := p.types.SourceType(name); ok && applies(t) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "remove it"
	}
	return fmt.Sprintf("remove it or set type: %s", orList(names))
}

// orList joins names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
