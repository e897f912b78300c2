// Package deploy holds no code: it is the home of the Docker Swarm deployment
// (Dockerfile, stack.yml, deploy.sh, the Prometheus and Grafana files; see
// README.md beside this file) and of the tests that check it without a Docker
// engine: the stack loaded with compose-go and by `docker stack config`, every
// config and secret it names, every stage's environment against the variables
// its pipeline reads, `benthos lint` of each stage with that environment,
// health checks, update and restart policies, pinned images, no credential in
// an environment, the Prometheus config (promtool), the Dockerfile's
// structure, deploy.sh and build.sh (shellcheck; build.sh's steps against a
// stub docker). The stack's rehearsal on loopback is tests.TestStackRehearsal.
package deploy
