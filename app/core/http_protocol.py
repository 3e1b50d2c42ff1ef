"""uvicorn's httptools protocol with the head of a request bounded.

httptools reads a request line and headers of any size before the application sees them,
taking seconds over a huge one. This counts what arrives while a head is being read, and past
``IQT_MAX_REQUEST_HEADER_BYTES`` plus ``IQT_MAX_URL_BYTES`` plus some slack answers 431
without parsing more. The read that ends a request's body is not counted: what follows the
body in it is the next head, bounded by the size of one read, and the reads after it are
counted. The precise limits, and their problem+json answers, are the application's
(``RequestHeadLimitsMiddleware``); this only stops the server spending time on a huge head.
"""

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.core.settings import get_settings

READ_SLACK_BYTES = 64 * 1024
# After refusing, what the client still sends is read and dropped, up to this much, so that the
# answer is not lost to a reset; then the connection is closed.
DISCARD_BYTES = 1024 * 1024


def _refusal(limit: int) -> bytes:
    body = json.dumps(
        {
            "type": "https://iqt.nhs.wales/problems/headers-too-large",
            "title": "Request headers are too large",
            "status": 431,
            "detail": f"The request line and headers are larger than {limit} bytes.",
        }
    ).encode()
    head = (
        "HTTP/1.1 431 Request Header Fields Too Large\r\n"
        "content-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


class BoundedHeadProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.head_limit = (
            settings.max_request_header_bytes + settings.max_url_bytes + READ_SLACK_BYTES
        )
        self.reading_head = True
        self.head_bytes = 0
        self.discarded: int | None = None  # bytes dropped since refusing; None: not refused
        self.ended_a_message = False  # during one read

    def data_received(self, data: bytes) -> None:
        if self.discarded is not None:
            self.discarded += len(data)
            if self.discarded > DISCARD_BYTES:
                self.transport.close()
            return
        self.ended_a_message = False
        super().data_received(data)
        if self.ended_a_message or not self.reading_head or self.transport.is_closing():
            return
        self.head_bytes += len(data)
        if self.head_bytes > self.head_limit:
            self.discarded = 0
            self.transport.write(_refusal(self.head_limit))
            self.transport.write_eof()

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self.head_bytes = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.reading_head = True
        self.ended_a_message = True
