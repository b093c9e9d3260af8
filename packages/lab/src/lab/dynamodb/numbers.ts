import Decimal from 'decimal.js';
import { LabError } from '../kernel';

const validation = (m: string) => new LabError('ValidationException', m);

/**
 * DynamoDB's numbers: decimal, up to 38 significant digits, magnitude from 1E-130 to
 * 9.9999999999999999999999999999999999999E+125 (and 0); stored and returned in plain notation
 * without leading or trailing zeros ("-0015.789e6" comes back as "-15789000"). Arithmetic is exact
 * and its result is held to the same limits.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number
 */
// Wide enough that the sum of two valid numbers (at most 256 digits apart) is exact; the result is checked after.
const Exact = Decimal.clone({ precision: 400, toExpPos: 1000, toExpNeg: -1000, maxE: 9e15, minE: -9e15 });

const SYNTAX = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function checked(d: Decimal): string {
  if (!d.isZero()) {
    if (d.e > 125) throw validation('Number overflow. Attempting to store a number with magnitude larger than supported range');
    if (d.e < -130) throw validation('Number underflow. Attempting to store a number with magnitude smaller than supported range');
    if (d.sd(false) > 38) throw validation('Attempting to store more than 38 significant digits in a Number');
  }
  return d.isZero() ? '0' : d.toFixed();
}

/** A number as DynamoDB stores it (plain notation), or AWS's ValidationException for one it refuses. */
export function canonicalNumber(text: string): string {
  if (!SYNTAX.test(text.trim())) throw validation(`The parameter cannot be converted to a numeric value: ${text}`);
  return checked(new Exact(text.trim()));
}

/** `a + b` exactly, as UpdateExpression's ADD computes it, held to DynamoDB's range and precision. */
export const addNumbers = (a: string, b: string): string => checked(new Exact(a).plus(b));

/** The order of two numbers by value (-1, 0, 1). */
export const compareNumbers = (a: string, b: string): number => new Exact(a).cmp(b);
