package datafile

import (
	"fmt"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// compressor compresses a page body.
type compressor interface {
	Encode(dst, src []byte) ([]byte, error)
	CompressionCodec() format.CompressionCodec
}

// zstdCodec is a zstd codec with pooled encoders and a window fitted to pages:
// the encoder's default 8 MiB history would be most of the writer's memory.
type zstdCodec struct {
	level zstd.EncoderLevel
	pool  sync.Pool
}

const zstdWindow = 2 << 20

var (
	zstdFastest = zstdCodec{level: zstd.SpeedFastest}
	zstdDefault = zstdCodec{level: zstd.SpeedDefault}
	zstdBetter  = zstdCodec{level: zstd.SpeedBetterCompression}
	zstdBest    = zstdCodec{level: zstd.SpeedBestCompression}
)

// zstdFile holds one encoder for a file's lifetime (a GC does not take
// it back mid-file, as it would from the pool) and returns it on release.
type zstdFile struct {
	z *zstdCodec
	e *zstd.Encoder
}

func (f *zstdFile) CompressionCodec() format.CompressionCodec { return format.Zstd }

func (f *zstdFile) Encode(dst, src []byte) ([]byte, error) {
	if f.e == nil {
		f.e, _ = f.z.pool.Get().(*zstd.Encoder)
	}
	if f.e == nil {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(f.z.level), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(zstdWindow), zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
		if err != nil {
			return dst, err
		}
		f.e = e
	}
	return f.e.EncodeAll(src, dst[:0]), nil
}

func (f *zstdFile) release() {
	if f.e != nil {
		f.z.pool.Put(f.e)
		f.e = nil
	}
}

func newCodec(name string, level int) (compressor, error) {
	switch strings.ToLower(name) {
	case "", "zstd":
		switch {
		case level <= 1:
			return &zstdFile{z: &zstdFastest}, nil
		case level <= 4:
			return &zstdFile{z: &zstdDefault}, nil
		case level <= 9:
			return &zstdFile{z: &zstdBetter}, nil
		}
		return &zstdFile{z: &zstdBest}, nil
	case "snappy":
		return &parquet.Snappy, nil
	case "gzip":
		return &parquet.Gzip, nil
	case "uncompressed", "none":
		return &parquet.Uncompressed, nil
	}
	return nil, fmt.Errorf("unknown parquet compression %q (want zstd, snappy, gzip or uncompressed)", name)
}

// schemaElements flattens the Parquet schema depth-first, root first, as
// the footer wants it.

func schemaElements(root parquet.Node) []format.SchemaElement {
	var out []format.SchemaElement
	var walk func(name string, node parquet.Node, isRoot bool)
	walk = func(name string, node parquet.Node, isRoot bool) {
		t := node.Type()
		e := format.SchemaElement{Name: name}
		if !isRoot {
			switch {
			case node.Optional():
				e.RepetitionType.Set(format.Optional)
			case node.Repeated():
				e.RepetitionType.Set(format.Repeated)
			default:
				e.RepetitionType.Set(format.Required)
			}
		}
		if lt := t.LogicalType(); lt != nil {
			e.LogicalType = *lt
			if d, ok := lt.Value.(*format.DecimalType); ok {
				e.Scale.Set(d.Scale)
				e.Precision.Set(d.Precision)
			}
		}
		if n := int32(t.Length()); n > 0 {
			e.TypeLength.Set(n)
		}
		if !node.Leaf() {
			e.NumChildren.Set(int32(len(node.Fields())))
		}
		if pt := t.PhysicalType(); pt != nil {
			e.Type.Set(*pt)
		}
		if ct := t.ConvertedType(); ct != nil {
			e.ConvertedType.Set(*ct)
		}
		out = append(out, e)
		for _, fl := range node.Fields() {
			walk(fl.Name(), fl, false)
		}
	}
	walk("spark_schema", root, true)
	return out
}
