"""Named accounts, roles per school and class, inspection grants, login throttling."""
