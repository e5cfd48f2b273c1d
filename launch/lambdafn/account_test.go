package lambdafn

import "testing"

// TestAccountOfFunction: the account field of a function ARN,
// arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}[:qualifier] (the shape
// of Lambda's Invoke FunctionName pattern, `arn:(aws[a-zA-Z-]*)?:lambda:…:\d{12}:function:
// …(:(\$LATEST|[a-zA-Z0-9-_]+))?`, Lambda API reference).
func TestAccountOfFunction(t *testing.T) {
	tests := []struct{ arn, want string }{
		{"arn:aws:lambda:us-east-2:123456789012:function:my-function", "123456789012"},
		{"arn:aws:lambda:us-east-2:123456789012:function:my-function:1", "123456789012"},
		{"arn:aws-cn:lambda:cn-north-1:123456789012:function:my-function:$LATEST", "123456789012"},
		{"my-function", ""},
		{"arn:aws:lambda:us-east-2:1234:function:short-account", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := AccountOfFunction(tt.arn); got != tt.want {
			t.Errorf("AccountOfFunction(%q) = %q; want %q", tt.arn, got, tt.want)
		}
	}
}
