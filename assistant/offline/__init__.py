"""The offline controlled-English parser: plain English to canonical rules, no model needed.

    parse_request(text, catalog, client=None, existing=None) -> ParseResult
"""

from assistant.offline.parser import ParseResult, parse_request

__all__ = ["ParseResult", "parse_request"]
