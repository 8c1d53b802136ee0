"""The outgoing track's own Opus encoding, and which codec an answer sends audio with."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.codecs.opus import OpusDecoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import AudioStreamTrack

from realtime_widget.server.transports.paced_audio import (
    FRAME_SAMPLES,
    TRACK_RATE,
    OpusFrameEncoder,
    PacedAudioTrack,
    upsample_to_track_rate,
)
from realtime_widget.server.transports.webrtc import audio_codec
from realtime_widget.server.voice.tts import EspeakSynthesizer


def tone_frames(count: int, level: float = 0.3) -> list[np.ndarray]:  # type: ignore[type-arg]
    t = np.arange(count * FRAME_SAMPLES) / TRACK_RATE
    samples = (np.sin(2 * np.pi * 300 * t) * level * 32767).astype(np.int16)
    return np.split(samples, count)


def rms(samples: np.ndarray) -> float:  # type: ignore[type-arg]
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def test_each_frame_becomes_one_opus_packet_stamped_with_its_time_that_decodes_to_the_same_sound() -> None:
    encoder, decoder = OpusFrameEncoder(), OpusDecoder()
    heard = []
    for index, samples in enumerate(tone_frames(10)):
        packet = encoder.encode(samples, index * FRAME_SAMPLES)
        assert packet.pts == index * FRAME_SAMPLES
        assert packet.time_base == Fraction(1, TRACK_RATE)
        frames = decoder.decode(JitterFrame(bytes(packet), int(packet.pts)))
        heard.append(np.concatenate([f.to_ndarray().reshape(-1) for f in frames]))  # type: ignore[attr-defined]
    # The codec's first frame fades in; after it the tone comes through at its level, on both channels.
    assert all(rms(h) > 0.6 * rms(s) for h, s in zip(heard[2:], tone_frames(10)[2:], strict=True))
    # After the tone's tail (the codec looks ahead), silence costs a few bytes.
    silence = np.zeros(FRAME_SAMPLES, np.int16)
    *_, settled = [encoder.encode(silence, (10 + i) * FRAME_SAMPLES) for i in range(3)]
    assert len(bytes(settled)) < 20


def test_silence_after_a_spoken_reply_goes_back_to_a_few_bytes_a_frame() -> None:
    # libopus coding mono at these settings kept coding silence at 75 bytes a frame after this very reply.
    pytest.importorskip("espeakng_loader", reason="eSpeak NG comes with the speech extra")
    text = "You asked: What time is it? I'm a local test model, so I can only repeat it."
    speech = upsample_to_track_rate(EspeakSynthesizer().synthesize(text, "alloy").samples)
    frames = np.split(speech[: speech.size // FRAME_SAMPLES * FRAME_SAMPLES], speech.size // FRAME_SAMPLES)
    frames += [np.zeros(FRAME_SAMPLES, np.int16)] * 100
    encoder = OpusFrameEncoder()
    sizes = [len(bytes(encoder.encode(frame, i * FRAME_SAMPLES))) for i, frame in enumerate(frames)]
    assert max(sizes[-95:]) < 20


async def test_the_track_sends_packets_once_opus_is_agreed() -> None:
    track = PacedAudioTrack()
    assert not hasattr(await track.recv(), "is_keyframe")  # a frame: aiortc encodes it
    track.encode_opus()
    track.enqueue(np.full(480, 8000, np.int16))
    packet = await track.recv()
    assert hasattr(packet, "is_keyframe")  # an av.Packet, encoded here
    assert packet.pts == FRAME_SAMPLES  # the second 20 ms frame of the track
    track.stop()


def only_pcmu(offer_sdp: str) -> str:
    """The offer as from a peer that can send and hear only G.711 mu-law."""
    lines = []
    for line in offer_sdp.split("\r\n"):
        if line.startswith("m=audio "):
            lines.append(" ".join([*line.split(" ")[:3], "0"]))
        elif not line.startswith("a=rtpmap:") or line.startswith("a=rtpmap:0 "):
            lines.append(line)
    return "\r\n".join(lines)


async def answer_to(offer_sdp: str) -> str:
    offerer_sdp = RTCSessionDescription(sdp=offer_sdp, type="offer")
    answerer = RTCPeerConnection()
    try:
        await answerer.setRemoteDescription(offerer_sdp)
        answerer.addTrack(AudioStreamTrack())
        await answerer.setLocalDescription(await answerer.createAnswer())
        return str(answerer.localDescription.sdp)
    finally:
        await answerer.close()


async def test_the_answer_names_the_codec_audio_is_sent_with() -> None:
    offerer = RTCPeerConnection()
    try:
        offerer.addTrack(AudioStreamTrack())
        await offerer.setLocalDescription(await offerer.createOffer())
        offer = offerer.localDescription.sdp
        assert audio_codec(await answer_to(offer)) == "opus"
        # A peer that offers only G.711 gets it, and the track goes on handing aiortc frames to encode.
        assert audio_codec(await answer_to(only_pcmu(offer))) == "pcmu"
    finally:
        await offerer.close()
    assert audio_codec("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n") is None
