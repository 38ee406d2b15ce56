// Package testenv is the test harness: a fresh, migrated MySQL database per
// test (on the server at $JETMON_TEST_DSN, default root@tcp(127.0.0.1:3306)/;
// `make db` starts a project-local MariaDB when none runs), in-process NATS
// servers (one node, or a 3-node JetStream cluster), and the architecture test
// that enforces DESIGN §6's import rules.
//
// It is imported only by _test.go files; the architecture test fails if
// production code imports it.
package testenv
