"""Feedback loop: ratings, NPS and CSAT, churn from subscription events, roadmap links and follow-ups."""
