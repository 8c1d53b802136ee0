"""The Realtime protocol, transport-agnostic: the session engine (client events in, server events out), its turns,
playback, conversation items, responses, session config, usage, ids and audio codecs."""
