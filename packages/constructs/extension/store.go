package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Store is the extension's whole use of DynamoDB: read its watch item, add counts to it.
type Store interface {
	// Watching answers the deployment the version's watch item names, "" when none.
	Watching(ctx context.Context, key string) (string, error)
	// Add adds counts to the watch item while it still watches deploymentID (ErrGone otherwise).
	Add(ctx context.Context, key, deploymentID string, c Counts, at time.Time) error
}

// ErrGone: the watch item no longer watches the deployment (the release ended or was replaced).
var ErrGone = errors.New("the watch item no longer watches this deployment")

// dynamoStore is Store over the AWS SDK for Go v2, with credentials and region from the
// environment Lambda gives every process of the function (no shared config files, no IMDS).
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
type dynamoStore struct {
	client *dynamodb.Client
	table  string
}

func newDynamoStore(table string) *dynamoStore {
	opts := dynamodb.Options{
		Region: os.Getenv("AWS_REGION"),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: os.Getenv("AWS_SESSION_TOKEN"), Source: "environment"}, nil
		}),
		// No retries inside a call: the next event is the retry, and the breaker spaces them out.
		Retryer: aws.NopRetryer{},
		HTTPClient: &http.Client{Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: CallTimeout, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     90 * time.Second,
		}},
	}
	if ep := os.Getenv(envDynamoEndpoint); ep != "" {
		opts.BaseEndpoint = aws.String(ep)
	}
	return &dynamoStore{client: dynamodb.New(opts), table: table}
}

func (s *dynamoStore) Watching(ctx context.Context, key string) (string, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{"deploymentId": &types.AttributeValueMemberS{Value: key}},
		ConsistentRead: aws.Bool(true),
		// Only the attribute it needs: a small read either way, but nothing more crosses the wire.
		ProjectionExpression:     aws.String("#w"),
		ExpressionAttributeNames: map[string]string{"#w": WatchDeploymentField},
	})
	if err != nil {
		return "", err
	}
	if s, ok := out.Item[WatchDeploymentField].(*types.AttributeValueMemberS); ok && watchedDeployment(s.Value) {
		return s.Value, nil
	}
	return "", nil
}

// watchedDeployment mirrors watchedDeployment in telemetry.ts: no deployment id starts with `#`.
func watchedDeployment(id string) bool { return id != "" && id[0] != '#' }

// Add is telemetryUpdate in telemetry.ts: ADD the counts, SET the latest flush and whether it had
// failures (what the stream filter passes), on condition that the item still watches the
// deployment, so a late write never counts for another release nor re-creates a removed item.
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html#Expressions.UpdateExpressions.ADD
func (s *dynamoStore) Add(ctx context.Context, key, deploymentID string, c Counts, at time.Time) error {
	names := map[string]string{
		"#n": FieldInvocations, "#e": FieldErrors, "#at": FieldAt, "#f": FieldFailed, "#w": WatchDeploymentField,
	}
	values := map[string]types.AttributeValue{
		":n":  &types.AttributeValueMemberN{Value: strconv.FormatInt(c.Invocations, 10)},
		":e":  &types.AttributeValueMemberN{Value: strconv.FormatInt(c.Errors, 10)},
		":at": &types.AttributeValueMemberN{Value: strconv.FormatInt(at.UnixMilli(), 10)},
		":f":  &types.AttributeValueMemberBOOL{Value: c.Errors > 0},
		":w":  &types.AttributeValueMemberS{Value: deploymentID},
	}
	for name, v := range initAdds(c) {
		names["#"+name[1:]] = initField(name)
		values[name] = &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       map[string]types.AttributeValue{"deploymentId": &types.AttributeValueMemberS{Value: key}},
		UpdateExpression:          aws.String(updateExpression(c)),
		ConditionExpression:       aws.String("#w = :w"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrGone
	}
	return err
}

// updateExpression is telemetryUpdate's in telemetry.ts: the counts, then one ADD for the inits
// and one for each non-empty bucket of their histogram (#i :i, #b<k> :b<k>, by rising k).
func updateExpression(c Counts) string {
	if c.Inits == 0 {
		return "ADD #n :n, #e :e SET #at = :at, #f = :f"
	}
	var b strings.Builder
	b.WriteString("ADD #n :n, #e :e, #i :i")
	for k, n := range c.InitBuckets {
		if n > 0 {
			fmt.Fprintf(&b, ", #b%d :b%d", k, k)
		}
	}
	b.WriteString(" SET #at = :at, #f = :f")
	return b.String()
}

// initAdds: the values the inits add, by placeholder (:i, :b<k>); none without inits.
func initAdds(c Counts) map[string]int64 {
	if c.Inits == 0 {
		return nil
	}
	out := map[string]int64{":i": c.Inits}
	for k, n := range c.InitBuckets {
		if n > 0 {
			out[fmt.Sprintf(":b%d", k)] = n
		}
	}
	return out
}

// initField: the attribute an init placeholder adds to (:i FieldInits, :b<k> FieldInitBucketPrefix<k>).
func initField(placeholder string) string {
	if placeholder == ":i" {
		return FieldInits
	}
	return FieldInitBucketPrefix + placeholder[2:]
}

// ambiguous tells whether a failed write may still have been applied: DynamoDB did not answer
// it (it timed out, or its connection broke after the request went out). Its counts are dropped,
// never written twice. An answered error (throttled, 5xx) or a connection never made did not write.
func ambiguous(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	// The SDK wraps every failure in a ResponseError; only one with a status code was answered.
	var answered *smithyhttp.ResponseError
	if errors.As(err, &answered) && answered.Response != nil && answered.Response.Response != nil && answered.Response.StatusCode > 0 {
		return false
	}
	return true
}
