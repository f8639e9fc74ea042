"""Tide: merge automation (Prow's pkg/tide) as one timer-driven sync; see sync.py."""
