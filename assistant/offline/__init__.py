"""The offline controlled-English parser: plain English to canonical rules, no model needed.

    parse_request(text, catalog, client=None, existing=None) -> ParseResult
    parse_edit(text, catalog, editing, client=None, named_only=False) -> ParseResult | None
"""

from assistant.offline.edit import parse_edit
from assistant.offline.parser import ParseResult, parse_request

__all__ = ["ParseResult", "parse_edit", "parse_request"]
