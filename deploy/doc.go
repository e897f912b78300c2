// Package deploy is the home of the Docker Swarm deployment
// (Dockerfile, stack.yml, deploy.sh, the Prometheus and Grafana files; see
// README.md beside this file) and of the tests that check it without a Docker
// engine: the stack loaded with compose-go and by `docker stack config`, every
// config and secret it names, every stage's environment against the variables
// its pipeline reads, `benthos lint` of each stage with that environment,
// health checks, update and restart policies, pinned images, no credential in
// an environment, the mart wiring (gold's DSN secret, Grafana's mart
// datasource), the Prometheus config (promtool), the Dockerfile's
// structure, deploy.sh and build.sh (shellcheck; build.sh's steps against a
// stub docker). The stack's rehearsal on loopback is tests.TestStackRehearsal.
//
// It also holds the monitoring (prometheus/: configs, rules and their promtool
// unit tests; alertmanager/; grafana/: dashboards and provisioning) and the Go
// model its tests check it with: the dashboards' JSON (Dashboard, Panel,
// Target), the rules (LoadRules), and the metric names the plugins register
// (CodeMetrics reads them from their sources, so a renamed metric breaks a
// test, not a panel). The proof on a real Prometheus is
// tests.TestObservabilityOnRealPrometheus.
package deploy
