// Entry point of the onboarding screens; filled in by the desktop issue.
