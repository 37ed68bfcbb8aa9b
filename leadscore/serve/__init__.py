"""Real-time scoring (leadscore serve)."""
