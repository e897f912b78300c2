package gdelt

import (
	"fmt"

	"github.com/redpanda-data/benthos/v4/public/bloblang"

	"github.com/gdeltflow/gdeltflow/plugins/gdelt/contract"
	"github.com/gdeltflow/gdeltflow/plugins/gdelt/schema"
)

// gdelt_fields: the Bloblang view of a row in column order. gdelt_decode with
// `form: row` leaves the row in the gdelt_row metadata as a *schema.Row,
// which Bloblang carries as an opaque value; this method names its fields.

func gdeltFieldsSpec() *bloblang.PluginSpec {
	return bloblang.NewPluginSpec().
		Category("GDELT").
		Description("The named fields of a decoded GDELT row: on the value of the `"+contract.MetaRow+"` metadata that `gdelt_decode` sets with `form: row`, an object with every column under its snake_case name, exactly what `form: map` puts in the content (the values are shared, not copied). On an object (a row decoded with `form: map`) it returns the object unchanged, so a mapping works with either form. Anything else is an error.").
		Example("Read named fields of a row decoded with `form: row`",
			`root.id = @gdelt_row.gdelt_fields().global_event_id
root.tone = @gdelt_row.gdelt_fields().avg_tone`).
		Example("A row decoded with `form: map` passes unchanged",
			`root = this.gdelt_fields()`,
			[2]string{`{"global_event_id":881990833,"avg_tone":-2.5}`, `{"avg_tone":-2.5,"global_event_id":881990833}`})
}

func gdeltFields(v any) (any, error) {
	switch r := v.(type) {
	case *schema.Row:
		if r == nil || r.Layout == nil {
			return nil, fmt.Errorf("gdelt_fields: the row has no layout")
		}
		return r.Map(), nil
	case map[string]any:
		return r, nil
	case nil:
		return nil, fmt.Errorf("gdelt_fields: expected a row (the %s metadata of gdelt_decode's form: row), got null", contract.MetaRow)
	}
	return nil, fmt.Errorf("gdelt_fields: expected a row (the %s metadata of gdelt_decode's form: row) or an object, got %T", contract.MetaRow, v)
}

func init() {
	bloblang.MustRegisterMethodV2("gdelt_fields", gdeltFieldsSpec(), func(*bloblang.ParsedParams) (bloblang.Method, error) {
		return gdeltFields, nil
	})
}
