"""The offline voice model: VAD, speech recognition (in a worker process), speech synthesis, resampling, the
deterministic responder and its tool matching, the scripted mode, and one loader that returns the bundle the
session engine needs (``loader.load_voice_model``)."""
