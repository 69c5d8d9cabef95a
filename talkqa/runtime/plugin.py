"""pytest plugin for generated talkqa suites (filled in by the generated-suite work)."""
