"""services/registry/frames.text_frame: the frames written straight to sockets are what a
WebSocket client's parser (websockets') reads as one final text frame, at every length form."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from services.registry.frames import text_frame


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_a_text_frame_parses_back_to_its_text(size: int) -> None:
    text = "é" * (size // 2) + "x" * (size % 2)
    reader = StreamReader()
    reader.feed_data(text_frame(text))
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    with pytest.raises(StopIteration) as parsed:
        next(parser)
    frame = parsed.value.value
    assert frame.opcode is Opcode.TEXT
    assert frame.fin
    assert frame.data.decode() == text
