package config

import (
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// secretKeys are keys whose values must never be echoed, in ours or anyone's messages.
var secretKeys = map[string]bool{
	"password": true, "credentials": true, "bearer_token": true, "client_secret": true,
	"client_certificate_key": true, "key": true, "token": true, "api_token": true,
	"secret": true, "secrets": true, "private_key": true, "proxy_connect_header": true,
}

var urlUserinfo = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://([^/?#@\n]+)@`)

// collectSecrets gathers every secret value in the document, so messages
// from other packages can be scrubbed of them.
func collectSecrets(doc *yaml.Node) []string {
	var secrets []string
	seen := map[*yaml.Node]bool{} // aliases may share (and nest) values
	var addAll func(n *yaml.Node)
	addAll = func(n *yaml.Node) {
		n = resolve(n)
		if seen[n] {
			return
		}
		seen[n] = true
		if n.Kind == yaml.ScalarNode && n.Value != "" {
			secrets = append(secrets, n.Value)
		}
		for _, c := range n.Content {
			addAll(c)
		}
	}
	walk(doc, func(key, value *yaml.Node) bool {
		if key != nil && secretKeys[key.Value] {
			addAll(value)
		}
		if value.Kind == yaml.ScalarNode {
			for _, m := range urlUserinfo.FindAllStringSubmatch(value.Value, -1) {
				secrets = append(secrets, m[1])
				if _, password, ok := strings.Cut(m[1], ":"); ok && password != "" {
					secrets = append(secrets, password)
				}
			}
		}
		return false
	})
	// Longest first, so a secret containing another is replaced whole.
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	return secrets
}

func (p *parser) redact(msg string) string {
	for _, s := range p.secrets {
		msg = strings.ReplaceAll(msg, s, "<secret>")
	}
	return msg
}
