package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"

	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// A write may have been applied unless DynamoDB answered it, or its connection was never made.
func TestAmbiguousWrites(t *testing.T) {
	answered := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400}}, Err: errors.New("ProvisionedThroughputExceededException")}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"answered with an error (throttled)", fmt.Errorf("operation error DynamoDB: UpdateItem, %w", answered), false},
		{"connection refused", fmt.Errorf("send: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), false},
		{"timed out", fmt.Errorf("send: %w", context.DeadlineExceeded), true},
		{"timed out, as the SDK wraps it (no status code)", fmt.Errorf("operation error DynamoDB: UpdateItem, %w", &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{}}, Err: context.DeadlineExceeded}), true},
		{"connection reset after the request was sent", fmt.Errorf("send: %w", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), true},
	} {
		if got := ambiguous(tc.err); got != tc.want {
			t.Errorf("%s: ambiguous %v, want %v", tc.name, got, tc.want)
		}
	}
}
