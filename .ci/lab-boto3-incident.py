"""The incident commands of issue 27 from boto3, a client the project did not write: run by
.ci/lab-aws-cli against a running lab (`canary-watchdog lab --clock real`, the sample app).
Prints one line per check: "pass", or "FAIL name: what it saw". Exits 0 either way (the caller
counts the lines); a crash of the script itself is a failure there."""

import base64
import re
import sys
import time

from botocore.exceptions import ClientError
from lab_boto3 import check, lab_client

ENDPOINT = sys.argv[1]
FN = "OrdersService-PricingApiFunctionE656641C"
GROUP = "OrdersService-PricingApiLogs83778036"
WATCHDOG_GROUP = "OrdersService-WatchdogWatchdogLogs39B183CE"
RULE = "OrdersService-WatchdogEveryMinute110F52DF"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:" + FN
# https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html
REPORT = re.compile(r"^REPORT RequestId: ([0-9a-f-]{36})\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: \d+ MB\tMax Memory Used: \d+ MB\t(Init Duration: \d+\.\d\d ms\t)?$")


def client(service):
    return lab_client(ENDPOINT, service)


logs, lam, events, cw = client("logs"), client("lambda"), client("events"), client("cloudwatch")


def refused(name, code, message, fn):
    def run():
        try:
            fn()
        except ClientError as e:
            err = e.response["Error"]
            if err.get("Code") == code and message in err.get("Message", ""):
                return True
            return "error %r" % err
        return "no error"

    check(name, run)


def invoke():
    return lam.invoke(FunctionName=FN, Qualifier="live", LogType="Tail", Payload=b'{"rawPath":"/price"}')


# Logs: what `aws logs tail` and a script read.
first = invoke()
tail = base64.b64decode(first["LogResult"]).decode()
check("Invoke LogType Tail ends with a REPORT line", lambda: bool(REPORT.match(tail.strip().split("\n")[-1] + "\t")) or tail)
time.sleep(0.5)
check(
    "FilterLogEvents interleaved=True (AWS ignores it)",
    lambda: any(e["message"].startswith("START RequestId: ") for e in logs.filter_log_events(logGroupName=GROUP, interleaved=True)["events"]) or "no START line",
)
check(
    "FilterLogEvents: every REPORT line in AWS's format",
    lambda: (lambda r: bool(r) and all(REPORT.match(m) for m in r) or r)([e["message"] for e in logs.filter_log_events(logGroupName=GROUP, filterPattern='"REPORT RequestId"')["events"]]),
)
check(
    "FilterLogEvents: a JSON pattern",
    lambda: len(logs.filter_log_events(logGroupName=WATCHDOG_GROUP, filterPattern='{ $.level = "INFO" || $.level = "WARN" }')["events"]) > 0 or "no INFO line",
)
check(
    "FilterLogEvents: a paginator over a JSON numeric comparison",
    lambda: [e for p in logs.get_paginator("filter_log_events").paginate(logGroupName=WATCHDOG_GROUP, filterPattern="{ $.deployments >= 0 }", PaginationConfig={"PageSize": 1}) for e in p["events"]] != [] or "nothing",
)
refused("FilterLogEvents: a regular expression, refused by name", "InvalidParameterException", "regular-expression filter patterns", lambda: logs.filter_log_events(logGroupName=GROUP, filterPattern="%REPORT%"))
streams = logs.describe_log_streams(logGroupName=GROUP, orderBy="LastEventTime", descending=True)["logStreams"]
check("DescribeLogStreams: Lambda stream names", lambda: bool(streams) and bool(re.match(r"^\d{4}/\d\d/\d\d/\[\d+\][0-9a-f]{32}$", streams[0]["logStreamName"])) or streams)
head = logs.get_log_events(logGroupName=GROUP, logStreamName=streams[0]["logStreamName"], startFromHead=True, limit=1) if streams else {"events": []}
check("GetLogEvents from the head: START first", lambda: head["events"][0]["message"].startswith("START RequestId: ") or head)
check(
    "GetLogEvents: the forward token stays at the end",
    lambda: (lambda r: logs.get_log_events(logGroupName=GROUP, logStreamName=streams[0]["logStreamName"], nextToken=r["nextForwardToken"])["nextForwardToken"] == r["nextForwardToken"] or r)(
        logs.get_log_events(logGroupName=GROUP, logStreamName=streams[0]["logStreamName"])
    ),
)
refused("StartQuery (Logs Insights), refused by name", "InvalidOperationException", "CloudWatch Logs Insights (StartQuery) is not supported by the lab", lambda: logs.start_query(logGroupName=GROUP, startTime=0, endTime=1, queryString="fields @message"))
check(
    "function logs hold no host Node.js warning",
    lambda: not any("NodeVersionSupportWarning" in e["message"] for e in logs.filter_log_events(logGroupName=GROUP)["events"]) or "found one",
)

# Reserved concurrency: the kill switch.
check("PutFunctionConcurrency 0", lambda: lam.put_function_concurrency(FunctionName=FN, ReservedConcurrentExecutions=0)["ReservedConcurrentExecutions"] == 0)
check("GetFunctionConcurrency", lambda: lam.get_function_concurrency(FunctionName=FN).get("ReservedConcurrentExecutions") == 0)
refused("Invoke at 0: TooManyRequestsException, Rate Exceeded.", "TooManyRequestsException", "Rate Exceeded.", invoke)
check("DeleteFunctionConcurrency", lambda: lam.delete_function_concurrency(FunctionName=FN)["ResponseMetadata"]["HTTPStatusCode"] == 204)
check("Invoke once deleted", lambda: invoke()["StatusCode"] == 200)

# EventBridge.
check("DisableRule", lambda: events.disable_rule(Name=RULE) is not None and events.describe_rule(Name=RULE)["State"] == "DISABLED")
check("EnableRule", lambda: events.enable_rule(Name=RULE) is not None and events.describe_rule(Name=RULE)["State"] == "ENABLED")
refused("EnableRule of an unknown rule", "ResourceNotFoundException", "Rule nope does not exist on EventBus default.", lambda: events.enable_rule(Name="nope"))

# CloudWatch (boto3 speaks awsJson to it; the CLI above speaks awsQuery).
cw.put_metric_alarm(
    AlarmName="incident-boto3", Namespace="Lab/IncidentBoto3", MetricName="Errors", Dimensions=[{"Name": "FunctionName", "Value": "b"}],
    Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
)
check(
    "DescribeAlarmsForMetric",
    lambda: [a["AlarmName"] for a in cw.describe_alarms_for_metric(Namespace="Lab/IncidentBoto3", MetricName="Errors", Dimensions=[{"Name": "FunctionName", "Value": "b"}])["MetricAlarms"]] == ["incident-boto3"],
)
now = time.time()
check("PutMetricData at the client's own current time", lambda: cw.put_metric_data(Namespace="Lab/IncidentBoto3", MetricData=[{"MetricName": "Runs", "Value": 1, "Timestamp": now}]) is not None)
refused(
    "GetMetricData: a Metrics Insights query, refused by name",
    "InvalidParameterValue",
    "Metrics Insights is not supported by the lab",
    lambda: cw.get_metric_data(MetricDataQueries=[{"Id": "q", "Expression": 'SELECT SUM(Errors) FROM SCHEMA("Lab/IncidentBoto3", FunctionName)', "Period": 60}], StartTime=now - 600, EndTime=now),
)

# Complete descriptions, by the FunctionConfiguration response syntax.
cfg = lam.get_function_configuration(FunctionName=FN)
FIELDS = ["Role", "LastModified", "LoggingConfig", "Architectures", "CodeSize", "CodeSha256", "PackageType", "State", "LastUpdateStatus", "RevisionId", "EphemeralStorage", "TracingConfig", "SnapStart"]
check("GetFunctionConfiguration has every field the lab knows", lambda: [f for f in FIELDS if f not in cfg] == [] or [f for f in FIELDS if f not in cfg])
check("LoggingConfig names the log group", lambda: cfg["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": GROUP} or cfg["LoggingConfig"])
check(
    "ListVersionsByFunction: $LATEST's ARN ends :$LATEST",
    lambda: [v["FunctionArn"] for v in lam.list_versions_by_function(FunctionName=FN)["Versions"]][:2] == [ARN + ":$LATEST", ARN + ":1"],
)
check("a version's configuration is complete too", lambda: [f for f in FIELDS if f not in lam.get_function_configuration(FunctionName=FN, Qualifier="1")] == [])
check("GetAlias: AliasArn, RevisionId", lambda: (lambda a: a["AliasArn"] == ARN + ":live" and bool(a["RevisionId"]))(lam.get_alias(FunctionName=FN, Name="live")))
