"""Settings and the organisation's configuration: the environment, the organisation YAML
(roles, teams, the check-in, support) and the teams and managers imported from HR."""
