"""Shipping quotes: GET /shipping?zone=EU&weightKg=2.5 prices a parcel from SHIPPING_RATES
(JSON: zone -> {"baseCents": ..., "perKgCents": ...}, each started kilogram charged) in CURRENCY.
The standard library only, as Lambda's Python runtime has it."""
import json
import math
import os

MAX_WEIGHT_KG = 30

_rates = None


def _load_rates():
    # Read once per execution environment; a bad value fails at first use, as in production.
    global _rates
    if _rates is None:
        _rates = json.loads(os.environ["SHIPPING_RATES"])
    return _rates


def _json(status, body):
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def quote(rates, zone, weight_kg):
    """The price of a parcel in cents, or None for a zone without rates."""
    rate = rates.get(zone)
    if rate is None:
        return None
    return rate["baseCents"] + math.ceil(weight_kg) * rate["perKgCents"]


def handler(event, context):
    rates = _load_rates()
    if event.get("rawPath") != "/shipping":
        return _json(404, {"error": "no route %s" % event.get("rawPath")})
    query = event.get("queryStringParameters") or {}
    zone = query.get("zone", "")
    try:
        weight_kg = float(query.get("weightKg", ""))
    except ValueError:
        return _json(400, {"error": "weightKg must be a number"})
    if not 0 < weight_kg <= MAX_WEIGHT_KG:
        return _json(400, {"error": "weightKg must be above 0 and at most %d" % MAX_WEIGHT_KG})
    cents = quote(rates, zone, weight_kg)
    if cents is None:
        return _json(404, {"error": "no rates for zone %s" % zone})
    return _json(200, {"zone": zone, "weightKg": weight_kg, "cents": cents, "currency": os.environ.get("CURRENCY", "USD")})
