"""What the lab's boto3 check scripts share (.ci/lab-boto3-incident.py, .ci/lab-boto3-fidelity.py):
a client pointed at the lab with the lab's keys and no retries, and one printed line per check."""

import boto3
from botocore.config import Config


def lab_client(endpoint, service):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="lab",
        aws_secret_access_key="lab",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def check(name, fn):
    """fn returns True, or a string saying what it saw; an exception is a failure too."""
    try:
        got = fn()
    except Exception as e:  # noqa: BLE001 - every failure is reported, with its type
        got = "%s: %s" % (type(e).__name__, e)
    print("pass" if got is True else "FAIL boto3 %s: %s" % (name, got))
