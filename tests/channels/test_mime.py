"""Fast MIME assembly: what mail parsers read back from it.

Bad inputs tried: non-ASCII subjects and bodies, CR/LF injected into a header,
lines longer than SMTP allows, a line starting with a dot.
"""

from __future__ import annotations

import email
import email.policy

from channels.base import Message
from channels.mime import build_mime, encode_header, wrap_html
from channels.sms import segments


def parse(raw: bytes) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def test_multipart_alternative_reads_back_with_every_header() -> None:
    message = Message(
        7,
        "email",
        "ana@example.com",
        "<1.7.abc@example.com>",
        subject="Olá João — oferta",
        text="Olá\n.linha com ponto\n",
        html="<p>é</p>",
        headers=(("List-Unsubscribe", "<https://x/t/u/t>"),),
    )
    raw = build_mime(message, "Loja <news@example.com>")
    parsed = parse(raw)
    assert parsed["Subject"] == "Olá João — oferta"
    assert parsed["Message-ID"] == "<1.7.abc@example.com>"
    assert parsed["List-Unsubscribe"] == "<https://x/t/u/t>"
    text, html = (part.get_content() for part in parsed.iter_parts())
    assert text.replace("\r\n", "\n") == "Olá\n.linha com ponto\n"
    assert html.strip() == "<p>é</p>"
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_header_injection_is_flattened() -> None:
    assert encode_header("Hi\r\nBcc: victim@example.com") == "Hi  Bcc: victim@example.com"


def test_ascii_with_short_lines_goes_7bit_long_lines_quoted_printable() -> None:
    short = build_mime(Message(1, "email", "a@b.c", "<1@x>", "s", "hello\n", None), "s@x")
    assert b"Content-Transfer-Encoding: 7bit" in short
    long = build_mime(Message(1, "email", "a@b.c", "<1@x>", "s", "x" * 2000, None), "s@x")
    assert b"Content-Transfer-Encoding: quoted-printable" in long
    assert max(len(line) for line in long.split(b"\r\n")) <= 998
    assert parse(long).get_content().strip() == "x" * 2000


def test_wrap_html_breaks_only_between_attributes() -> None:
    html = "<td " + " ".join(f'data-a{i}="v {i}"' for i in range(200)) + ">text</td>"
    wrapped = wrap_html(html, width=100)
    assert max(len(line) for line in wrapped.split("\n")) < 200
    assert wrapped.replace("\n", " ") == html
    assert "v\n" not in wrapped  # never inside a quoted value


def test_sms_segments_gsm7_and_ucs2() -> None:
    assert segments("Hello") == ("gsm7", 1)
    assert segments("a" * 160) == ("gsm7", 1)
    assert segments("a" * 161) == ("gsm7", 2)
    assert segments("{" * 80) == ("gsm7", 1)  # extension characters take two septets
    assert segments("{" * 81) == ("gsm7", 2)
    assert segments("Olá ção") == ("ucs2", 1)  # ç and ã are not in GSM-7
    assert segments("ç" * 71) == ("ucs2", 2)
