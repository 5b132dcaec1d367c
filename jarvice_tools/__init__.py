"""JARVICE Tools: a typed, guarded JARVICE API layer with MCP and Slack front ends."""
