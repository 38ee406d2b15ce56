package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// EnvPrefix prefixes every key's environment override: JETMON_NUM_OF_CHECKS.
const EnvPrefix = "JETMON_"

// legacyDBEnv are Jetmon's plain database variables, honoured as overrides
// below their JETMON_-prefixed form.
func legacyDBEnv() []string {
	return []string{"DB_DSN", "DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME"}
}

// Load reads the config file at path (empty: defaults only), applies
// environment overrides from getenv, then defaults, and validates. Errors name
// the offending key.
func Load(path string, getenv func(string) string) (Config, error) {
	raw, err := readFile(path)
	if err != nil {
		return Config{}, err
	}
	var warnings []string
	retired := retiredKeys()
	for _, key := range sortedKeys(raw) {
		if hint, ok := retired[key]; ok {
			warnings = append(warnings, fmt.Sprintf("config key %s is not used by Jetmon Mesh and is ignored (%s)", key, hint))
			delete(raw, key)
		}
	}
	kinds := keyKinds()
	for _, key := range sortedKeys(raw) {
		if _, ok := kinds[key]; !ok {
			return Config{}, fmt.Errorf("unknown config key %q%s", key, inFile(path))
		}
	}
	if err := applyEnv(raw, kinds, getenv); err != nil {
		return Config{}, err
	}
	var f fileConfig
	if err := decodeStrict(raw, &f); err != nil {
		return Config{}, fmt.Errorf("%w%s", err, inFile(path))
	}
	cfg, err := resolve(f)
	if err != nil {
		return Config{}, err
	}
	cfg.Warnings = append(warnings, cfg.Warnings...)
	return cfg, nil
}

func inFile(path string) string {
	if path == "" {
		return ""
	}
	return " in " + path
}

func readFile(path string) (map[string]json.RawMessage, error) {
	raw := map[string]json.RawMessage{}
	if path == "" {
		return raw, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse config %s: %w", path, err)
	}
	return raw, nil
}

// keyKinds maps each key to its Go kind, from fileConfig's tags.
func keyKinds() map[string]reflect.Type {
	t := reflect.TypeFor[fileConfig]()
	kinds := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		field := t.Field(i)
		kinds[field.Tag.Get("json")] = field.Type.Elem()
	}
	return kinds
}

// Keys lists every key a config file may set, sorted.
func Keys() []string { return sortedKeys(keyKinds()) }

func applyEnv(raw map[string]json.RawMessage, kinds map[string]reflect.Type, getenv func(string) string) error {
	if getenv == nil {
		return nil
	}
	for _, key := range legacyDBEnv() {
		if v := getenv(key); v != "" {
			if err := setFromEnv(raw, key, key, v, kinds[key]); err != nil {
				return err
			}
		}
	}
	for _, key := range sortedKeys(kinds) {
		name := EnvPrefix + key
		if v, ok := lookup(getenv, name); ok {
			if err := setFromEnv(raw, key, name, v, kinds[key]); err != nil {
				return err
			}
		}
	}
	return nil
}

// lookup treats an empty variable as unset: the process environment cannot
// tell "set to empty" from "unset" through a getenv function.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

func setFromEnv(raw map[string]json.RawMessage, key, name, value string, kind reflect.Type) error {
	var (
		encoded []byte
		err     error
	)
	switch kind.Kind() {
	case reflect.String:
		encoded, err = json.Marshal(value)
	case reflect.Int:
		if _, perr := strconv.Atoi(strings.TrimSpace(value)); perr != nil {
			return fmt.Errorf("%s=%q: must be an integer", name, value)
		}
		encoded = []byte(strings.TrimSpace(value))
	case reflect.Bool:
		b, perr := strconv.ParseBool(strings.TrimSpace(value))
		if perr != nil {
			return fmt.Errorf("%s=%q: must be true or false", name, value)
		}
		encoded, err = json.Marshal(b)
	case reflect.Slice:
		encoded, err = listFromEnv(name, value)
	default:
		return fmt.Errorf("%s: unsupported kind %s", name, kind)
	}
	if err != nil {
		return err
	}
	raw[key] = encoded
	return nil
}

// listFromEnv accepts a JSON array or a comma-separated list.
func listFromEnv(name, value string) ([]byte, error) {
	value = strings.TrimSpace(value)
	if strings.HasPrefix(value, "[") {
		var list []string
		if err := json.Unmarshal([]byte(value), &list); err != nil {
			return nil, fmt.Errorf("%s: not a JSON array of strings: %w", name, err)
		}
		return []byte(value), nil
	}
	parts := strings.Split(value, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	encoded, err := json.Marshal(parts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return encoded, nil
}

func decodeStrict(raw map[string]json.RawMessage, f *fileConfig) error {
	data, err := json.Marshal(raw)
	if err != nil {
		return fmt.Errorf("re-encode config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("config key %s: must be %s, got %s", typeErr.Field, typeName(typeErr.Type), typeErr.Value)
		}
		return fmt.Errorf("decode config: %w", err)
	}
	return nil
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list of strings"
	default:
		return t.String()
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
