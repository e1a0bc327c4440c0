package config

// JiraConfig configures a Jira Cloud or Data Center source (type: jira).
// Owned by the Jira source work: defaults and validation live here.
type JiraConfig struct {
	URL               string  `yaml:"url"`
	Deployment        string  `yaml:"deployment"` // auto | cloud | datacenter
	JQL               string  `yaml:"jql"`
	FirstResponse     string  `yaml:"first_response"` // auto | sla | comment
	FirstResponseSLA  string  `yaml:"first_response_sla"`
	RequestsPerSecond float64 `yaml:"requests_per_second"`
}
