"""GMFY gamification (SPEC 7): HTTP client, event outbox sender, notifications, profile and leaderboards."""
