// Package transporttest is what the deliverer transports' tests share: a
// scripted httptest receiver that records every request, the sample
// notices of the golden files (at one fixed time), the golden-file helper
// with its -update flag, and the checks every alert-contact transport runs
// against a receiver.
//
// It is imported only by _test.go files. Importing it registers the
// -update flag, so a test binary that imports it must not define its own.
// It is not a transport and imports only the standard library and uptime;
// it must not import the deliverer package or a transport.
package transporttest
