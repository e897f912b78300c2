package datafile

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/gdeltflow/gdeltflow/plugins/delta/schema"
)

// The compiled schema: the Delta schema as a tree of nodes with their Dremel
// levels, and its Parquet form for the footer.

type nodeKind uint8

const (
	kindLeaf nodeKind = iota
	kindStruct
	kindList
	kindMap
)

// schemaNode is one node of the schema with its Dremel levels.
type schemaNode struct {
	kind     nodeKind
	name     string // the field name ("element", "key", "value" inside lists and maps)
	path     string // dotted path for messages
	optional bool
	def      int // definition level when this node is present
	rep      int // list/map: the repetition level of their entries; others: of the enclosing list
	typ      schema.DataType

	fields     []*schemaNode // struct
	elem       *schemaNode   // list
	key, value *schemaNode   // map

	first, last int // leaf columns [first, last) under this node

	// Leaves.
	col      int
	c        *column
	conv     converter
	fast     fastKind     // the decoder's Go type for this column, converted inline
	leafNode parquet.Node // the bare Parquet type
	phys     parquet.Kind
	maxDef   int
	maxRep   int
	wantHist bool // the first leaf of an optional array or map: its histogram counts their nulls
}

type fastKind uint8

const (
	fastNone fastKind = iota
	fastString
	fastLong
	fastDouble
)

type builder struct {
	leaves []*schemaNode
}

// build compiles field f whose parent is present at definition level
// parentDef and repeated at parentRep.
func (b *builder) build(f *schema.StructField, parentDef, parentRep int, parentPath string) (*schemaNode, error) {
	n := &schemaNode{name: f.Name, optional: f.Nullable, rep: parentRep, typ: f.Type, first: len(b.leaves)}
	n.path = f.Name
	if parentPath != "" {
		n.path = parentPath + "." + f.Name
	}
	n.def = parentDef
	if n.optional {
		n.def++
	}
	if n.def+1 > parquet.MaxDefinitionLevel || parentRep+1 > parquet.MaxRepetitionLevel {
		return nil, fmt.Errorf("column %s: nested too deeply", n.path)
	}
	t := f.Type
	switch {
	case t.Struct != nil:
		n.kind = kindStruct
		for i := range t.Struct.Fields {
			c, err := b.build(&t.Struct.Fields[i], n.def, parentRep, n.path)
			if err != nil {
				return nil, err
			}
			n.fields = append(n.fields, c)
		}
		if len(n.fields) == 0 {
			return nil, fmt.Errorf("column %s: a struct needs at least one field", orElse(n.path, "schema"))
		}
	case t.Array != nil:
		n.kind = kindList
		n.rep = parentRep + 1
		e, err := b.build(&schema.StructField{Name: "element", Type: t.Array.ElementType, Nullable: t.Array.ContainsNull}, n.def+1, n.rep, n.path)
		if err != nil {
			return nil, err
		}
		e.path = n.path + "[]"
		n.elem = e
	case t.Map != nil:
		n.kind = kindMap
		n.rep = parentRep + 1
		k, err := b.build(&schema.StructField{Name: "key", Type: t.Map.KeyType, Nullable: false}, n.def+1, n.rep, n.path)
		if err != nil {
			return nil, err
		}
		v, err := b.build(&schema.StructField{Name: "value", Type: t.Map.ValueType, Nullable: t.Map.ValueContainsNull}, n.def+1, n.rep, n.path)
		if err != nil {
			return nil, err
		}
		n.key, n.value = k, v
	default:
		n.kind = kindLeaf
		leaf, conv, err := leafType(t.Primitive)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", n.path, err)
		}
		n.leafNode = leaf
		n.phys = leaf.Type().Kind()
		n.conv = conv
		n.maxDef = n.def
		n.maxRep = parentRep
		switch t.Primitive {
		case schema.TypeString:
			n.fast = fastString
		case schema.TypeLong:
			n.fast = fastLong
		case schema.TypeDouble:
			n.fast = fastDouble
		}
		n.col = len(b.leaves)
		b.leaves = append(b.leaves, n)
	}
	n.last = len(b.leaves)
	if n.last-n.first == 0 {
		return nil, fmt.Errorf("column %s: no leaf columns", n.path)
	}
	if n.last > parquet.MaxColumnIndex {
		return nil, errors.New("parquet writer: too many columns")
	}
	if (n.kind == kindList || n.kind == kindMap) && n.optional {
		b.leaves[n.first].wantHist = true
	}
	return n, nil
}

// parquetNode returns the Parquet schema node of n: 3-level lists and maps,
// groups in field order.
func (n *schemaNode) parquetNode() parquet.Node {
	var node parquet.Node
	switch n.kind {
	case kindStruct:
		fields := make([]groupField, len(n.fields))
		for i, c := range n.fields {
			fields[i] = groupField{Node: c.parquetNode(), name: c.name}
		}
		node = &orderedGroup{fields: fields}
	case kindList:
		node = parquet.List(n.elem.parquetNode())
	case kindMap:
		node = parquet.Map(n.key.parquetNode(), n.value.parquetNode())
	default:
		node = n.leafNode
	}
	if n.optional {
		return parquet.Optional(node)
	}
	return parquet.Required(node)
}

// orderedGroup is a Parquet group whose fields keep their declared order
// (parquet.Group is a map and sorts them by name).
type orderedGroup struct {
	fields []groupField
}

type groupField struct {
	parquet.Node
	name string
}

func (f *groupField) Name() string { return f.name }

func (f *groupField) Value(base reflect.Value) reflect.Value {
	panic("datafile: reflection over a Delta parquet schema is not supported")
}

func (g *orderedGroup) asGroup() parquet.Group {
	m := make(parquet.Group, len(g.fields))
	for _, f := range g.fields {
		m[f.name] = f.Node
	}
	return m
}

func (g *orderedGroup) ID() int                     { return 0 }
func (g *orderedGroup) String() string              { return g.asGroup().String() }
func (g *orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g *orderedGroup) Optional() bool              { return false }
func (g *orderedGroup) Repeated() bool              { return false }
func (g *orderedGroup) Required() bool              { return true }
func (g *orderedGroup) Leaf() bool                  { return false }
func (g *orderedGroup) Encoding() encoding.Encoding { return nil }
func (g *orderedGroup) Compression() compress.Codec { return nil }
func (g *orderedGroup) GoType() reflect.Type        { return g.asGroup().GoType() }
func (g *orderedGroup) Fields() []parquet.Field {
	out := make([]parquet.Field, len(g.fields))
	for i := range g.fields {
		out[i] = &g.fields[i]
	}
	return out
}
