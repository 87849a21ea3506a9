"""JSON request bodies with a bounded nesting depth.

Python's decoder recurses once per level of nesting: a body of a few kilobytes such as
`[[[[…]]]]` two thousand deep raises `RecursionError`, which no view expects (a 500). Every
JSON body is therefore measured before it is decoded, and one nested deeper than
`JSON_MAX_DEPTH` is refused as malformed input: DRF's parser (the API's only one) answers
the usual 400, and a plain Django view reading JSON by hand calls `json_loads_bounded`,
which raises a `ValueError` like any other bad JSON.

The measure never decodes anything: strings are cut out with one regular expression
(possessive, so no input makes it backtrack), the brackets left are counted in C
(`itertools.accumulate` over signed bytes). It costs microseconds for an ordinary body and
a few milliseconds per megabyte for a hostile one.
"""

import codecs
import json
import re
from array import array
from itertools import accumulate
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding  # type: ignore[attr-defined]  # newer than the stubs
from rest_framework.utils import json as drf_json

# A string literal, escapes included; an unterminated one runs to the end of the text.
STRING_LITERAL = re.compile(r'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
NOT_A_BRACKET = re.compile(r"[^\[\]{}]++")
# Openers become the byte 0x01, closers 0xff: read as signed bytes, +1 and -1, so the running
# sum is the depth.
BRACKET_STEPS = str.maketrans({"[": "\x01", "{": "\x01", "]": "\xff", "}": "\xff"})


class JSONNestedTooDeeply(ValueError):
    """The text nests arrays and objects deeper than allowed; it was not decoded."""


def json_nesting_depth(text: str) -> int:
    """How deep the text's arrays and objects nest (0 for a scalar), outside its strings.

    For malformed text (unbalanced brackets), the deepest any prefix of it goes."""
    skeleton = NOT_A_BRACKET.sub("", STRING_LITERAL.sub("", text))
    if not skeleton:
        return 0
    return max(0, max(accumulate(array("b", skeleton.translate(BRACKET_STEPS).encode("latin-1")))))


def json_max_depth() -> int:
    return int(getattr(settings, "JSON_MAX_DEPTH", 32))


def json_loads_bounded(text: str | bytes, *, max_depth: int | None = None, **kwargs: Any) -> Any:
    """`json.loads`, refusing (JSONNestedTooDeeply, a ValueError) text nested deeper than
    `max_depth` (default: the JSON_MAX_DEPTH setting) before decoding it."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    limit = json_max_depth() if max_depth is None else max_depth
    depth = json_nesting_depth(text)
    if depth > limit:
        raise JSONNestedTooDeeply(f"JSON nested {depth} levels deep; at most {limit} are accepted.")
    return json.loads(text, **kwargs)


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSONParser, with the nesting bound: too deep is a ParseError (400 `malformed`)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = get_encoding(parser_context or {})
        parse_constant = drf_json.strict_constant if self.strict else None
        try:
            text = codecs.getreader(encoding)(stream).read()
            return json_loads_bounded(text, parse_constant=parse_constant)
        except ValueError as exc:  # bad JSON, too deep, or bytes the charset cannot decode
            raise ParseError(f"JSON parse error - {exc}") from None
