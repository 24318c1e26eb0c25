"""ffmpeg: pure command builders (commands, analysis, stills) and the one runner."""
