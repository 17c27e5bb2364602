"""A text file's lines decoded one at a time (report_files.text_lines) are the lines of the whole text decoded at once."""
from __future__ import annotations

import io

import pytest

from gateway.errors import ValidationFailed
from gateway.intake.report_files import decode_text, text_encoding, text_lines

FILES = {
    "utf-8 with BOM, CRLF, a blank line, no final newline": "\ufeff{\"a\": 1}\r\n{\"b\": \"云景里小区\"}\n\n{\"c\": \"\ufeff末行\"}".encode("utf-8"),
    "utf-8 without BOM": "{\"content\": \"路灯不亮\"}\n".encode("utf-8"),
    "gb18030, a character of four bytes": "一\n二\r\n三𠀀\n".encode("gb18030"),
    "empty": b"",
}


@pytest.mark.parametrize("content", FILES.values(), ids=FILES.keys())
def test_the_lines_are_those_of_the_whole_text(content: bytes) -> None:
    assert list(text_lines(content)) == list(io.StringIO(decode_text(content)))


def test_the_encoding_is_found_across_the_megabytes_it_is_read_in() -> None:
    # Characters cut by the 1 MiB step are read whole; two bytes that are neither make the file refused.
    utf8 = b"a" + "中".encode("utf-8") * (1 << 19)
    gb = b"a" + "中".encode("gb18030") * (1 << 19)
    assert text_encoding(utf8) == "utf-8-sig" and text_encoding(gb) == "gb18030"
    assert "".join(text_lines(gb)) == "a" + "中" * (1 << 19)
    with pytest.raises(ValidationFailed, match="neither UTF-8 nor GB18030"):
        list(text_lines(utf8 + b"\xff\xff"))
