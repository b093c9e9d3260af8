"""A user's CDK app in Python that guards one existing function with canary-watchdog.

`cdk synth` runs it (cdk.json); .ci/python-app runs it with the generated Python binding
installed, and check_template.py asserts on the template. The App writes to CDK_OUTDIR, which
the CDK CLI sets.
"""
import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

import canary_watchdog as cw


class PaymentsStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)

        watchdog = cw.ReleaseWatchdog(self, "Watchdog")

        # The user's own function, with inline code (no asset build, no Docker).
        handler = lambda_.Function(
            self,
            "Handler",
            runtime=lambda_.Runtime.NODEJS_22_X,
            handler="index.handler",
            code=lambda_.Code.from_inline(
                "exports.handler = async () => ({ statusCode: 200, body: JSON.stringify({ ok: true }) });"
            ),
            environment={"PAYMENTS_TIMEOUT_MS": "2500"},
        )

        self.guarded = cw.GuardedFunction(
            self,
            "Payments",
            watchdog=watchdog,
            existing_function=handler,
            rollout=cw.Rollout.canary(percent=10, minutes=5),
            probes=[
                cw.ProbeSpec(
                    name="health",
                    event={"rawPath": "/health", "requestContext": {"http": {"method": "GET"}}},
                    expect=cw.ProbeExpectation(
                        status=cw.ProbeStatus.SUCCESS,
                        body=[cw.BodyExpectation(path="$.statusCode", equal_to=200)],
                        max_latency_ms=1000,
                    ),
                )
            ],
            config_checks=[
                cw.ConfigCheckProps(key="PAYMENTS_TIMEOUT_MS", format=cw.ConfigFormat.INTEGER),
            ],
        )

        # A Python function on Graviton, guarded the same way: the telemetry extension is a native
        # binary, so it carries the layer of its architecture like any other runtime.
        refunds = lambda_.Function(
            self,
            "RefundsHandler",
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context):\n    return {'statusCode': 200, 'body': '{\"ok\": true}'}\n"),
            memory_size=256,
        )
        self.refunds = cw.GuardedFunction(
            self,
            "Refunds",
            watchdog=watchdog,
            existing_function=refunds,
            probes=[cw.ProbeSpec(name="health", event={"rawPath": "/health"}, expect=cw.ProbeExpectation(status=cw.ProbeStatus.SUCCESS))],
        )


app = cdk.App()
stack = PaymentsStack(app, "PaymentsPython")
app.synth()
