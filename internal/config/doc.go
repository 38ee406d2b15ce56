// Package config loads and validates Jetmon Mesh configuration: one JSON file
// with Jetmon's UPPER_SNAKE key names, overridden per key by JETMON_<KEY>
// environment variables, with the database taken from DB_DSN or Jetmon's
// DB_HOST/DB_PORT/DB_USER/DB_PASSWORD/DB_NAME.
//
// Loading is strict: an unknown key is an error naming the key, and Jetmon v2
// keys the mesh no longer uses load with one warning each so an existing
// Jetmon config file still works. Secrets are redacted whenever printed.
//
// The package imports no other project package.
package config
