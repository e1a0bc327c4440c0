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

// httpClientSection and jiraSection decode through the same strict decoder
// (the v2-style unmarshal callback keeps KnownFields and real line numbers),
// but hold back a validation error instead of aborting the whole decode, so
// it can be reported with the source and line it belongs to.
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

// checkFiles makes sure every *_file (and header files) under node is
// readable now, so a typo fails at load rather than at the first poll.
// Only the path is ever reported, never what the file holds.
func (p *parser) checkFiles(node *yaml.Node, scope, path string) error {
	node = resolve(node)
	if node == nil {
		return nil
	}
	switch node.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			key, value := node.Content[i].Value, resolve(node.Content[i+1])
			keyPath := path + "." + key
			switch {
			case strings.HasSuffix(key, "_file") && value.Kind == yaml.ScalarNode:
				if err := p.checkFile(value, scope, keyPath); err != nil {
					return err
				}
			case key == "files" && value.Kind == yaml.SequenceNode:
				for j, item := range value.Content {
					if err := p.checkFile(resolve(item), scope, fmt.Sprintf("%s[%d]", keyPath, j)); err != nil {
						return err
					}
				}
			default:
				if err := p.checkFiles(value, scope, keyPath); err != nil {
					return err
				}
			}
		}
	case yaml.SequenceNode:
		for j, item := range node.Content {
			if err := p.checkFiles(item, scope, fmt.Sprintf("%s[%d]", path, j)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *parser) checkFile(value *yaml.Node, scope, keyPath string) error {
	if value.Value == "" {
		return nil
	}
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
		return p.errorf(value.Line, scope, "%s: cannot read %q: %v", keyPath, name, err)
	}
	return nil
}
