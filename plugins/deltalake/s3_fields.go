package deltalake

import (
	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/plugins/delta/storage"
)

// s3Field is the `s3` block of a component that opens a table (the same
// fields for the delta_lake output and input).
func s3Field() *service.ConfigField {
	return service.NewObjectField(dlFieldS3,
		service.NewStringField(dlFieldS3Endpoint).Description("The S3 endpoint, `host:port` or a URL (MinIO: `http://127.0.0.1:9000`). Empty: AWS S3.").Default(""),
		service.NewStringField(dlFieldS3Region).Description("The region.").Default("us-east-1"),
		service.NewStringField(dlFieldS3AccessKey).Description("The access key. Empty: the usual chain (`AWS_ACCESS_KEY_ID`, the credentials file, IAM).").Default(""),
		service.NewStringField(dlFieldS3SecretKey).Description("The secret key.").Default("").Secret(),
		service.NewStringField(dlFieldS3Token).Description("A session token, for temporary credentials.").Default("").Secret().Advanced(),
		service.NewBoolField(dlFieldS3Secure).Description("Use https; an endpoint given as a URL sets this from its scheme.").Default(true),
		service.NewBoolField(dlFieldS3PathStyle).Description("Path-style addressing (`endpoint/bucket/key`), as MinIO wants.").Default(true).Advanced(),
	).Description("S3 access, for an `s3://` path. Credentials are never logged.")
}

// s3ConfFromParsed reads the `s3` block.
func s3ConfFromParsed(pc *service.ParsedConfig) (c storage.S3Config, err error) {
	s3 := pc.Namespace(dlFieldS3)
	for _, f := range []struct {
		name string
		dst  *string
	}{{dlFieldS3Endpoint, &c.Endpoint}, {dlFieldS3Region, &c.Region}, {dlFieldS3AccessKey, &c.AccessKeyID},
		{dlFieldS3SecretKey, &c.SecretAccessKey}, {dlFieldS3Token, &c.SessionToken}} {
		if *f.dst, err = s3.FieldString(f.name); err != nil {
			return
		}
	}
	if c.Secure, err = s3.FieldBool(dlFieldS3Secure); err != nil {
		return
	}
	c.PathStyle, err = s3.FieldBool(dlFieldS3PathStyle)
	return
}
