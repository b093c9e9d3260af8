"""Complete descriptions, measured memory, JSON logs and the transaction size limit of issue 27,
from boto3: run by .ci/lab-aws-cli's fidelity group after its CLI calls (it reuses their function
cli-fid, table cli-fid, alarm cli-fid-p99 and CodeDeploy application cli-fid). Each raw reply of the
described operations is also checked against the output shape of the installed botocore's model:
a member the model does not have is a failure. Prints one line per check: "pass", or
"FAIL boto3 name: what it saw". Exits 0 either way (the caller counts the lines)."""

import base64
import json
import sys

from botocore.exceptions import ClientError
from lab_boto3 import check, lab_client

ENDPOINT = sys.argv[1]


def client(service):
    return lab_client(ENDPOINT, service)


lam, ddb, deploy, cw = client("lambda"), client("dynamodb"), client("codedeploy"), client("cloudwatch")


# Members of each raw reply that the operation's output shape lacks, by operation.
invented = {}


def invented_members(shape, value, path):
    if shape.type_name == "structure" and isinstance(value, dict):
        out = []
        for k, v in value.items():
            if k not in shape.members:
                out.append("%s.%s" % (path, k))
            else:
                out += invented_members(shape.members[k], v, "%s.%s" % (path, k))
        return out
    if shape.type_name == "list" and isinstance(value, list):
        return [p for i, v in enumerate(value) for p in invented_members(shape.member, v, "%s[%d]" % (path, i))]
    if shape.type_name == "map" and isinstance(value, dict):
        return [p for k, v in value.items() for p in invented_members(shape.value, v, "%s.%s" % (path, k))]
    return []


def watch(c, operations):
    for op in operations:
        def record(operation_model, response_dict, **_):
            body = response_dict.get("body") or b"{}"
            if response_dict.get("status_code", 500) < 300 and body[:1] == b"{":
                invented.setdefault(operation_model.name, []).extend(invented_members(operation_model.output_shape, json.loads(body), operation_model.name))

        c.meta.events.register("before-parse.%s.%s" % (c.meta.service_model.service_id.hyphenize(), op), record)


watch(lam, ["GetFunctionConfiguration", "GetFunction", "ListVersionsByFunction", "GetAlias", "ListAliases"])
watch(deploy, ["GetDeployment", "GetDeploymentGroup", "ListDeployments"])
watch(cw, ["DescribeAlarms"])

# Lambda: the JSON-logging function the CLI deployed.
cfg = lam.get_function_configuration(FunctionName="cli-fid")
check("LoggingConfig: JSON, WARN, INFO", lambda: cfg["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "SystemLogLevel": "INFO", "LogGroup": "/aws/lambda/cli-fid"} or cfg["LoggingConfig"])
check("DeadLetterConfig", lambda: cfg.get("DeadLetterConfig") == {"TargetArn": "arn:aws:sqs:us-east-1:123456789012:cli-fid-dlq"} or cfg.get("DeadLetterConfig"))
check("no VpcConfig, Layers or KMSKeyArn the template does not set", lambda: [k for k in ("VpcConfig", "Layers", "KMSKeyArn") if k in cfg] == [] or sorted(cfg))
lam.get_function(FunctionName="cli-fid")
lam.list_versions_by_function(FunctionName="cli-fid")
check("GetAlias: the template's Description", lambda: lam.get_alias(FunctionName="cli-fid", Name="live")["Description"] == "what users call")
lam.list_aliases(FunctionName="cli-fid")
out = lam.invoke(FunctionName="cli-fid", LogType="Tail")
records = [json.loads(line) for line in base64.b64decode(out["LogResult"]).decode().splitlines() if line]
check("JSON logs: start, the WARN record, report", lambda: [r.get("type") or r.get("level") for r in records] == ["platform.start", "WARN", "platform.report"] or records)
report = [r for r in records if r.get("type") == "platform.report"]
check("Max Memory Used: measured, at most Memory Size", lambda: bool(report) and 0 < report[0]["record"]["metrics"]["maxMemoryUsedMB"] <= report[0]["record"]["metrics"]["memorySizeMB"] or report)

# DynamoDB: the 4 MB of a transaction (the CLI wrote k0..k9, 390 KB each).
blob = "x" * (390 * 1024)
ddb.put_item(TableName="cli-fid", Item={"pk": {"S": "k10"}, "blob": {"S": blob}})


def refused_4mb(fn):
    try:
        fn()
    except ClientError as e:
        err = e.response["Error"]
        return err["Code"] == "ValidationException" and err["Message"] == "The aggregate size of the items in the transaction cannot exceed 4 MB" or err
    return "no error"


gets = [{"Get": {"TableName": "cli-fid", "Key": {"pk": {"S": "k%d" % i}}}} for i in range(11)]
check("TransactGetItems of eleven 390 KB items is refused", lambda: refused_4mb(lambda: ddb.transact_get_items(TransactItems=gets)))
check("TransactGetItems of ten reads them", lambda: len(ddb.transact_get_items(TransactItems=gets[:10])["Responses"]) == 10)
puts = [{"Put": {"TableName": "cli-fid", "Item": {"pk": {"S": "b%d" % i}, "blob": {"S": blob}}}} for i in range(11)]
check("TransactWriteItems of eleven 390 KB items is refused", lambda: refused_4mb(lambda: ddb.transact_write_items(TransactItems=puts)))
check("and wrote none of them", lambda: "Item" not in ddb.get_item(TableName="cli-fid", Key={"pk": {"S": "b0"}}))

# CodeDeploy: the CLI's two deployments.
group = deploy.get_deployment_group(applicationName="cli-fid", deploymentGroupName="cli-fid")["deploymentGroupInfo"]
check("GetDeploymentGroup: last deployments and target revision", lambda: all(k in group for k in ("lastSuccessfulDeployment", "lastAttemptedDeployment", "targetRevision")) or sorted(group))
latest = deploy.list_deployments(applicationName="cli-fid", deploymentGroupName="cli-fid")["deployments"][0]
info = deploy.get_deployment(deploymentId=latest)["deploymentInfo"]
check("GetDeployment: previousRevision, completeTime, overview", lambda: all(k in info for k in ("previousRevision", "completeTime", "deploymentOverview", "creator", "deploymentStyle")) or sorted(info))

# CloudWatch: the CLI's p99 alarm.
alarm = cw.describe_alarms(AlarmNames=["cli-fid-p99"])["MetricAlarms"][0]
FIELDS = ["AlarmArn", "AlarmConfigurationUpdatedTimestamp", "ActionsEnabled", "StateValue", "StateReason", "StateUpdatedTimestamp", "StateTransitionedTimestamp", "ExtendedStatistic", "Dimensions", "DatapointsToAlarm", "TreatMissingData", "EvaluateLowSampleCountPercentile"]
check("DescribeAlarms: every MetricAlarm field the alarm has", lambda: [f for f in FIELDS if f not in alarm] == [] or [f for f in FIELDS if f not in alarm])

for op in ("GetFunctionConfiguration", "GetFunction", "ListVersionsByFunction", "GetAlias", "ListAliases", "GetDeployment", "GetDeploymentGroup", "ListDeployments", "DescribeAlarms"):
    check("%s: no member botocore's output shape lacks" % op, lambda: invented.get(op) == [] or invented.get(op, "not seen"))
