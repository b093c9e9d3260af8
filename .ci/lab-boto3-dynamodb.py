"""A self-contained boto3 script, unchanged from what would run against AWS: it creates its own
table, writes with a transaction, reads back, and checks the answers and error shapes AWS gives.
Run by .ci/lab-aws-cli against the lab (AWS_ENDPOINT_URL_DYNAMODB names it). Exits 1 on the
first difference, naming it."""
import decimal
import sys
import uuid

import boto3
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

ddb = boto3.resource("dynamodb")
# The resource's own client takes Python values; this one takes DynamoDB's wire form.
client = boto3.client("dynamodb")
name = f"boto3-{uuid.uuid4().hex[:8]}"


def fail(what):
    print(f"FAIL {what}")
    sys.exit(1)


def error_of(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"], e.response
    fail(f"expected an error from {call}")


table = ddb.create_table(
    TableName=name,
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    BillingMode="PAY_PER_REQUEST",
)
table.wait_until_exists()
described = client.describe_table(TableName=name)["Table"]
for field in ("AttributeDefinitions", "CreationDateTime", "TableArn", "TableId", "BillingModeSummary"):
    if field not in described:
        fail(f"describe_table has no {field}")

client.transact_write_items(
    TransactItems=[
        {"Put": {"TableName": name, "Item": {"pk": {"S": "acct"}, "sk": {"N": "1"}, "balance": {"N": "100"}}}},
        {"Put": {"TableName": name, "Item": {"pk": {"S": "acct"}, "sk": {"N": "2"}, "note": {"S": "opened"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
    ]
)
table.update_item(Key={"pk": "acct", "sk": 1}, UpdateExpression="ADD balance :d", ExpressionAttributeValues={":d": decimal.Decimal("-88.3")})
got = client.transact_get_items(TransactItems=[{"Get": {"TableName": name, "Key": {"pk": {"S": "acct"}, "sk": {"N": "1"}}}}])["Responses"][0]["Item"]
if got["balance"] != {"N": "11.7"}:
    fail(f"100 ADD -88.3 gave {got['balance']}, not 11.7")
items = table.query(KeyConditionExpression=Key("pk").eq("acct"))["Items"]
if [i["sk"] for i in items] != [1, 2]:
    fail(f"query read back {items}")

# A failed condition cancels the whole transaction, with a reason per entry.
err, response = error_of(
    lambda: client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": name, "Item": {"pk": {"S": "acct"}, "sk": {"N": "3"}}}},
            {"ConditionCheck": {"TableName": name, "Key": {"pk": {"S": "acct"}, "sk": {"N": "1"}}, "ConditionExpression": "balance > :x", "ExpressionAttributeValues": {":x": {"N": "1000"}}}},
        ]
    )
)
if err["Code"] != "TransactionCanceledException" or [r["Code"] for r in response.get("CancellationReasons", [])] != ["None", "ConditionalCheckFailed"]:
    fail(f"a cancelled transaction answered {err} {response.get('CancellationReasons')}")
if "Item" in table.get_item(Key={"pk": "acct", "sk": 3}):
    fail("a cancelled transaction wrote its Put")

# JSON-protocol errors: botocore's error dict has no awsQuery fields.
err, _ = error_of(lambda: client.describe_table(TableName="no-such-table"))
if err["Code"] != "ResourceNotFoundException" or "QueryErrorCode" in err or "Type" in err:
    fail(f"a DynamoDB error parsed as {err}")
err, _ = error_of(lambda: table.update_item(Key={"pk": "acct", "sk": 1}, UpdateExpression="SET a = :v SET b = :v", ExpressionAttributeValues={":v": 1}))
if err["Message"] != 'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;':
    fail(f"SET twice answered {err}")

with table.batch_writer() as batch:
    for n in range(30):
        batch.put_item(Item={"pk": "batch", "sk": n})
if table.query(KeyConditionExpression=Key("pk").eq("batch"), Select="COUNT")["Count"] != 30:
    fail("batch_writer did not write 30 items")

table.delete()
table.wait_until_not_exists()
print("boto3: table, transaction, read-back, batch and errors as on AWS")
