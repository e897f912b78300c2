// Package deploy holds what runs gdeltflow in production besides the binary:
// Prometheus configuration, recording and alert rules (prometheus/), the
// Alertmanager routing (alertmanager/) and the Grafana dashboards and their
// provisioning (grafana/). The Go code here is the model the tests check them
// with: the dashboards' JSON structure (Dashboard, Panel, Target), the rules'
// names, and the metric names the plugins emit (CodeMetrics reads them from the
// plugins' sources, so a renamed metric breaks a test, not a panel).
package deploy
