"""Asserts that the Python app's stack holds a guarded release: the alias, the deployment group,
its hooks and rollout, and the probe and config check in the watchdog's configuration.
Exits non-zero (an AssertionError or aws_cdk.assertions' error) on any failure."""
import json

from aws_cdk.assertions import Match, Template

import app as user_app

template = Template.from_stack(user_app.stack)

# The alias takes user traffic; CodeDeploy shifts it, with both hooks in the update policy.
template.resource_count_is("AWS::Lambda::Alias", 2)
template.has_resource_properties("AWS::Lambda::Alias", {"Name": "live"})
template.has_resource(
    "AWS::Lambda::Alias",
    {
        "UpdatePolicy": {
            "CodeDeployLambdaAliasUpdate": {
                "BeforeAllowTrafficHook": Match.any_value(),
                "AfterAllowTrafficHook": Match.any_value(),
                "ApplicationName": Match.any_value(),
                "DeploymentGroupName": Match.any_value(),
            }
        }
    },
)

# The deployment group: Rollout.canary(10 %, 5 min) is CodeDeploy's predefined config, and a
# failed or stopped deployment rolls back.
template.resource_count_is("AWS::CodeDeploy::DeploymentGroup", 2)
template.has_resource_properties(
    "AWS::CodeDeploy::DeploymentGroup",
    {
        "DeploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        "AutoRollbackConfiguration": {"Enabled": True, "Events": Match.array_with(["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"])},
        "AlarmConfiguration": {"Enabled": True, "Alarms": Match.any_value()},
    },
)

# The hooks are functions named CodeDeployHook_* (AWS's managed policy invokes only those).
hooks = template.find_resources("AWS::Lambda::Function", {"Properties": {"FunctionName": Match.string_like_regexp("^CodeDeployHook_")}})
assert len(hooks) == 2, f"expected the pre- and post-traffic hooks, found {sorted(hooks)}"

# The probe (its JSON event, equalTo written as the runtime's `equals`) and the config check
# reach the watchdog's runtime configuration.
watchdog_fns = template.find_resources("AWS::Lambda::Function", {"Properties": {"Description": "canary-watchdog watchdog"}})
assert len(watchdog_fns) == 1, f"expected one watchdog function, found {sorted(watchdog_fns)}"
env = next(iter(watchdog_fns.values()))["Properties"]["Environment"]["Variables"]
raw = env["CANARY_WATCHDOG_CONFIG"]
# The configuration is a JSON string; where it names a resource (a Ref), CloudFormation joins it:
# each token stands inside a JSON string, so a placeholder keeps the text valid JSON.
text = raw if isinstance(raw, str) else "".join(p if isinstance(p, str) else "TOKEN" for p in raw["Fn::Join"][1])
guard = json.loads(text)["guards"][0]
assert guard["probes"][0]["event"]["rawPath"] == "/health", guard["probes"]
assert guard["probes"][0]["expect"]["body"][0] == {"path": "$.statusCode", "equals": 200}, guard["probes"]
assert guard["configChecks"][0] == {"key": "PAYMENTS_TIMEOUT_MS", "format": "integer"}, guard["configChecks"]

# The Python function on arm64 carries the telemetry extension of its architecture: a layer that
# is compatible with arm64 only, and the state table's name to count into.
layers = template.find_resources("AWS::Lambda::LayerVersion")
arm = [lid for lid, l in layers.items() if l["Properties"].get("CompatibleArchitectures") == ["arm64"]]
assert len(arm) == 1, f"expected one arm64 telemetry layer, found {layers}"
refunds = template.find_resources("AWS::Lambda::Function", {"Properties": {"Runtime": "python3.12"}})
assert len(refunds) == 1, f"expected the Python function, found {sorted(refunds)}"
props = next(iter(refunds.values()))["Properties"]
assert props["Layers"] == [{"Ref": arm[0]}], props.get("Layers")
assert "CANARY_WATCHDOG_TELEMETRY_TABLE" in props["Environment"]["Variables"], props["Environment"]

print("python user app: aliases, deployment groups, hooks, probe and config check, and the Python function's arm64 telemetry layer found")
