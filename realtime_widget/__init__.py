"""Talk to a realtime voice model from a notebook over WebRTC, and study the session as DataFrames."""
