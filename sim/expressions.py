"""A small, safe condition language for triggered events.

Conditions look like Python comparisons (`theatres.korea.state >= crisis and cohesion < 0.4`).
They are parsed with the standard library's `ast` parser into a tree that is checked against a
whitelist of node types and then interpreted by closures built here. Nothing is ever passed to
`eval`; names must be known model variables or state labels.
"""

import ast
import difflib
import functools
import operator
from dataclasses import dataclass

import numpy as np

from .limits import MAX_CONDITION_DEPTH, MAX_CONDITION_LENGTH

_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_THEATRE_ALIASES = {"theatre", "theater", "theaters"}


class ExpressionError(ValueError):
    """A condition could not be parsed; `column` is 1-based within the condition text."""

    def __init__(self, message, column=1):
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(frozen=True)
class Condition:
    """A parsed condition: its source text, checked syntax tree and the variables it reads."""

    text: str
    tree: ast.Expression
    variables: tuple


def canonical_name(dotted):
    """Normalise spelling variants (`theater.x` -> `theatres.x`)."""
    head, _, rest = dotted.partition(".")
    if head in _THEATRE_ALIASES and rest:
        return "theatres." + rest
    return dotted


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _suggest(name, known):
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _constant(node):
    """The value of a subtree made only of numbers and arithmetic, else None."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _constant(node.operand)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _constant(node.left), _constant(node.right)
        if left is None or right is None:
            return None
        try:
            return _BINARY[type(node.op)](left, right)
        except ArithmeticError:
            return None
    return None


def parse_condition(text, variables, constants, numeric=False):
    """Parse and check `text`; raise ExpressionError naming the column of the first problem.

    With `numeric`, `text` is an arithmetic expression giving a number (for example an event's
    rate, `0.01 + 0.02 * (actors.us.commitment > 0.7)`, where a comparison counts as 1 or 0).
    Conditions longer than MAX_CONDITION_LENGTH characters or nested deeper than MAX_CONDITION_DEPTH
    operations are refused, as is a division by a constant zero.
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("empty condition; expected e.g. 'cohesion < 0.4'")
    if len(text.strip()) > MAX_CONDITION_LENGTH:
        raise ExpressionError(f"condition is longer than {MAX_CONDITION_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid condition syntax ({exc.msg})", exc.offset or 1) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError(f"condition is nested more than {MAX_CONDITION_DEPTH} levels deep") from None
    used = []

    def check(node, depth=1):
        if depth > MAX_CONDITION_DEPTH:
            raise ExpressionError(f"condition is nested more than {MAX_CONDITION_DEPTH} levels deep",
                                  getattr(node, "col_offset", 0) + 1)
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                check(value, depth + 1)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub, ast.UAdd)):
            check(node.operand, depth + 1)
        elif isinstance(node, ast.Compare):
            for op in node.ops:
                if type(op) not in _COMPARE:
                    raise ExpressionError("only <, <=, >, >=, ==, != comparisons are allowed", node.col_offset + 1)
            check(node.left, depth + 1)
            for comparator in node.comparators:
                check(comparator, depth + 1)
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            check(node.left, depth + 1)
            check(node.right, depth + 1)
            if isinstance(node.op, ast.Div) and _constant(node.right) == 0:
                raise ExpressionError("division by zero", node.right.col_offset + 1)
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
            pass
        elif isinstance(node, (ast.Name, ast.Attribute)):
            dotted = _dotted(node)
            if dotted is None:
                raise ExpressionError("unsupported expression", node.col_offset + 1)
            name = canonical_name(dotted)
            if name in constants:
                return
            if name not in variables:
                raise ExpressionError(
                    f"unknown variable '{dotted}'{_suggest(name, list(variables) + list(constants))}",
                    node.col_offset + 1,
                )
            used.append(name)
        else:
            what = type(node).__name__
            raise ExpressionError(
                f"'{what}' is not allowed in a condition; use variables, numbers, state names, "
                "comparisons, + - * /, and/or/not",
                getattr(node, "col_offset", 0) + 1,
            )

    check(tree.body)
    if not numeric and not isinstance(tree.body, (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.Name, ast.Attribute, ast.Constant)):
        raise ExpressionError("a condition must be a comparison or a combination of comparisons", 1)
    return Condition(text=text.strip(), tree=tree, variables=tuple(dict.fromkeys(used)))


def compile_condition(condition, resolve, constants):
    """Turn a parsed condition into a zero-argument function returning a bool per lane.

    `resolve(name)` returns a zero-argument getter for a model variable (an array over lanes, or a
    number); comparisons and and/or/not work elementwise, so each lane gets its own answer.
    """
    return _per_lane(_compile(condition, resolve, constants), bool)


def compile_expression(expression, resolve, constants):
    """Turn a parsed numeric expression (parse_condition with `numeric`) into a function returning a number per lane.

    A division by zero gives inf or NaN in that lane rather than an error.
    """
    return _per_lane(_compile(expression, resolve, constants), np.float64)


def _per_lane(evaluate, dtype):
    """`evaluate`'s result as an array of `dtype` (a division by zero gives inf or NaN, not a warning)."""

    def value():
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(evaluate(), dtype=dtype)

    return value


def _compile(condition, resolve, constants):

    def build(node):
        if isinstance(node, ast.BoolOp):
            parts = [build(v) for v in node.values]
            combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
            return lambda: functools.reduce(combine, (part() for part in parts))
        if isinstance(node, ast.UnaryOp):
            inner = build(node.operand)
            if isinstance(node.op, ast.Not):
                return lambda: np.logical_not(inner())
            if isinstance(node.op, ast.USub):
                return lambda: -inner()
            return inner
        if isinstance(node, ast.Compare):
            terms = [build(node.left)] + [build(c) for c in node.comparators]
            ops = [_COMPARE[type(op)] for op in node.ops]
            if len(ops) == 1:
                left, right, op = terms[0], terms[1], ops[0]
                return lambda: op(left(), right())

            def compare():
                values = [t() for t in terms]
                return functools.reduce(np.logical_and, (op(values[i], values[i + 1]) for i, op in enumerate(ops)))

            return compare
        if isinstance(node, ast.BinOp):
            left, right, op = build(node.left), build(node.right), _BINARY[type(node.op)]
            return lambda: op(left(), right())
        if isinstance(node, ast.Constant):
            value = node.value
            return lambda: value
        name = canonical_name(_dotted(node))
        if name in constants:
            value = constants[name]
            return lambda: value
        return resolve(name)

    return build(condition.tree.body)
