package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"

	promconfig "github.com/prometheus/common/config"
)

// RedactURL returns raw without user info, for messages; an unparsable
// value is not echoed at all (it may carry credentials).
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	return u.String()
}

// ExplainUnreachable ends err with what to look at when a request got no
// HTTP answer at all (a *TransportError, or a deadline ran out): the URL
// (named by its setting, urlKey), the proxy and TLS. Other errors are
// returned as they are.
func ExplainUnreachable(err error, urlKey, rawURL string, httpCfg promconfig.HTTPClientConfig) error {
	var transport *TransportError
	if !errors.As(err, &transport) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var hints []string
	var certErr *tls.CertificateVerificationError
	var authorityErr x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &authorityErr) || errors.As(err, &hostnameErr) {
		hints = append(hints, "the server's TLS certificate is not trusted: set http_client.tls_config.ca_file to the CA that signed it, or fix "+urlKey+" if the name does not match")
	}
	hints = append(hints, fmt.Sprintf("check that %s (%s) is right and reachable from this host", urlKey, RedactURL(rawURL)))
	switch {
	case httpCfg.ProxyURL.URL != nil:
		hints = append(hints, "requests go through the proxy "+RedactURL(httpCfg.ProxyURL.String())+" (http_client.proxy_url)")
	case httpCfg.ProxyFromEnvironment:
		hints = append(hints, "the proxy comes from HTTPS_PROXY, HTTP_PROXY and NO_PROXY (http_client.proxy_from_environment)")
	default:
		hints = append(hints, "no proxy is configured: set http_client.proxy_url if this host needs one")
	}
	if len(hints) == 2 && strings.HasPrefix(strings.ToLower(rawURL), "https:") {
		hints = append(hints, "a private CA goes in http_client.tls_config.ca_file")
	}
	return fmt.Errorf("%w; hint: %s", err, strings.Join(hints, "; "))
}
