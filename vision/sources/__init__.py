"""Camera clients: HTTP snapshots, RTSP keyframes and recorded video files, plus the circuit breaker."""
