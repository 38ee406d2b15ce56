package api

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/jetmon-mesh/jetmon/uptime"
)

// schema is one JSON Schema (2020-12) object of the document.
type schema = map[string]any

// schemaGen reflects Go wire types into JSON Schemas: named structs and
// enums become components referenced by $ref; a pointer or Nullable is
// nullable; a field without omitempty is required; only exported fields
// with their JSON names appear, and objects allow no other properties.
type schemaGen struct {
	components map[string]schema
	names      map[string]reflect.Type
}

func newSchemaGen() *schemaGen {
	return &schemaGen{components: map[string]schema{}, names: map[string]reflect.Type{}}
}

// nullableWire is implemented by Nullable[T]: the wrapped type.
type nullableWire interface{ nullableElem() reflect.Type }

func (Nullable[T]) nullableElem() reflect.Type { return reflect.TypeFor[T]() }

// enumTypes are the string types documented with their values.
func enumTypes() map[reflect.Type][]string {
	return map[reflect.Type][]string{
		reflect.TypeFor[uptime.State]():          stateNames(),
		reflect.TypeFor[uptime.Reason]():         reasonNames(),
		reflect.TypeFor[uptime.RedirectPolicy](): {"follow", "alert", "fail"},
		reflect.TypeFor[uptime.AlertTransport](): transportNames(),
		reflect.TypeFor[uptime.DeliveryStatus](): deliveryStatuses(),
		reflect.TypeFor[uptime.Scope]():          {"read", "write", "admin"},
		reflect.TypeFor[SeverityName]():          {"Up", "Warning", "Degraded", "SeemsDown", "Down"},
		reflect.TypeFor[WebhookEventType]():      uptime.WebhookEventTypes(),
		reflect.TypeFor[ErrorCode]():             errorCodeNames(),
	}
}

func errorCodeNames() []string {
	var out []string
	for _, e := range errorTable() {
		out = append(out, string(e.code))
	}
	return out
}

// of is t's schema: a $ref for named structs and enums, else inline.
func (g *schemaGen) of(t reflect.Type) (schema, error) {
	if n, ok := reflect.New(t).Elem().Interface().(nullableWire); ok {
		inner, err := g.of(n.nullableElem())
		return nullable(inner), err
	}
	switch t {
	case reflect.TypeFor[time.Time]():
		return schema{"type": "string", "format": "date-time"}, nil
	case reflect.TypeFor[OpenAPIDocument]():
		return g.component(t, func() (schema, error) {
			return schema{"type": "object", "description": "an OpenAPI 3.1 document"}, nil
		})
	case reflect.TypeFor[uptime.Severity]():
		return schema{"type": "integer", "minimum": 0, "maximum": 255}, nil
	}
	if values, ok := enumTypes()[t]; ok {
		return g.component(t, func() (schema, error) { return schema{"type": "string", "enum": values}, nil })
	}
	return g.ofKind(t)
}

func (g *schemaGen) ofKind(t reflect.Type) (schema, error) {
	switch t.Kind() {
	case reflect.Pointer:
		inner, err := g.of(t.Elem())
		return nullable(inner), err
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		return g.component(t, func() (schema, error) { return g.object(t) })
	case reflect.Slice, reflect.Array:
		items, err := g.of(t.Elem())
		return schema{"type": "array", "items": items}, err
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%v: map keys must be strings", t)
		}
		values, err := g.of(t.Elem())
		return schema{"type": "object", "additionalProperties": values}, err
	case reflect.Interface:
		return schema{}, nil
	case reflect.String:
		return schema{"type": "string"}, nil
	case reflect.Bool:
		return schema{"type": "boolean"}, nil
	case reflect.Int64:
		return schema{"type": "integer", "format": "int64"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32:
		return schema{"type": "integer"}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return schema{"type": "integer", "minimum": 0}, nil
	case reflect.Float32, reflect.Float64:
		return schema{"type": "number"}, nil
	default:
		return nil, fmt.Errorf("%v: no schema for kind %v", t, t.Kind())
	}
}

// object is a struct's schema.
func (g *schemaGen) object(t reflect.Type) (schema, error) {
	props := schema{}
	required := []string{}
	for _, f := range reflect.VisibleFields(t) {
		name, omitempty, ok := jsonName(f)
		if !ok {
			continue
		}
		fs, err := g.of(f.Type)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), f.Name, err)
		}
		props[name] = annotate(fs, f.Tag)
		if !omitempty {
			required = append(required, name)
		}
	}
	out := schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		out["required"] = required
	}
	return out, nil
}

// annotate adds a field's doc, format and enum tags to its schema.
func annotate(s schema, tag reflect.StructTag) schema {
	doc, format, enum := tag.Get("doc"), tag.Get("format"), tag.Get("enum")
	if doc == "" && format == "" && enum == "" {
		return s
	}
	out := schema{}
	for k, v := range s {
		out[k] = v
	}
	if doc != "" {
		out["description"] = doc
	}
	if format != "" {
		setInner(out, "format", format)
	}
	if enum != "" {
		setInner(out, "enum", strings.Split(enum, "|"))
	}
	return out
}

// setInner sets key on s, or on the non-null branch of a nullable anyOf.
func setInner(s schema, key string, v any) {
	if branches, ok := s["anyOf"].([]schema); ok {
		branches[0] = annotate(branches[0], "")
		branches[0][key] = v
		return
	}
	s[key] = v
}

// component registers t's schema under its name once and refers to it.
func (g *schemaGen) component(t reflect.Type, build func() (schema, error)) (schema, error) {
	name := schemaName(t)
	ref := schema{"$ref": "#/components/schemas/" + name}
	if prev, ok := g.names[name]; ok {
		if prev != t {
			return nil, fmt.Errorf("schema name %s is used by %v and %v", name, prev, t)
		}
		return ref, nil
	}
	g.names[name] = t
	s, err := build()
	if err != nil {
		return nil, err
	}
	g.components[name] = s
	return ref, nil
}

// schemaName is t's component name: its Go name, with a generic List[X]
// named XList.
func schemaName(t reflect.Type) string {
	name := t.Name()
	base, arg, generic := strings.Cut(name, "[")
	if !generic {
		return name
	}
	arg = strings.TrimSuffix(arg, "]")
	return arg[strings.LastIndex(arg, ".")+1:] + base
}

// nullable is s or null.
func nullable(s schema) schema {
	if t, ok := s["type"].(string); ok && s["enum"] == nil {
		out := schema{}
		for k, v := range s {
			out[k] = v
		}
		out["type"] = []string{t, "null"}
		return out
	}
	return schema{"anyOf": []schema{s, {"type": "null"}}}
}
